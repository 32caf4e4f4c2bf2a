"""Progress of long phases as log lines (OpenMMLab style: the logger, no
terminal bars in log files)."""
import datetime
import time
from typing import Mapping

from mmengine.logging import print_log


def _clock(seconds: float) -> str:
    return str(datetime.timedelta(seconds=int(round(seconds))))


def format_metrics(metrics: Mapping) -> str:
    """``{'accuracy/top1': 79.5}`` as ``accuracy/top1 79.50``."""
    return ', '.join(
        f'{key} {value:.2f}' if isinstance(value, float) else f'{key} {value}'
        for key, value in metrics.items())


class ProgressLog:
    """Log ``task i/N (p %), elapsed, ETA: note`` as items finish.

    Args:
        total (int): Items to do.
        task (str): What is being done, the start of each line.
        interval (float): Seconds between lines at least (the last item is
            always logged). 0 logs every item. Defaults to 0.
        done (int): Items already done (a resumed task). Defaults to 0.
        after (float): Seconds from the start before the first line: a
            task done sooner logs nothing. Defaults to 0.
    """

    def __init__(self,
                 total: int,
                 task: str,
                 interval: float = 0.0,
                 done: int = 0,
                 after: float = 0.0):
        self.total = int(total)
        self.after = after
        self.task = task
        self.interval = interval
        self.done = int(done)
        self._start_done = self.done
        self._start = time.perf_counter()
        self._last_line = None

    def update(self, note: str = '', count: int = 1) -> None:
        self.done += count
        now = time.perf_counter()
        last = self.done >= self.total
        if self._last_line is None and now - self._start < self.after:
            return
        if not last and self._last_line is not None and \
                now - self._last_line < self.interval:
            return
        self._last_line = now
        elapsed = now - self._start
        new = self.done - self._start_done
        line = f'{self.task} {self.done}/{self.total}'
        if self.total:
            line += f' ({100 * self.done / self.total:.0f} %)'
        line += f', {_clock(elapsed)} elapsed'
        if new and not last:
            remaining = elapsed / new * (self.total - self.done)
            line += f', ETA {_clock(remaining)}'
        print_log(line + (f': {note}' if note else ''), logger='current')
