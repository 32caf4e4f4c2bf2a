"""A competing CPU load for benchmarks that measure a busy machine."""
import multiprocessing
import os
import signal
from contextlib import contextmanager


def _spin() -> None:
    os.nice(0)
    while True:
        pass


@contextmanager
def busy_processes(count: int):
    """``count`` processes that keep one core each busy while the block
    runs (none for 0)."""
    context = multiprocessing.get_context('spawn')
    workers = [
        context.Process(target=_spin, daemon=True) for _ in range(count)
    ]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        for worker in workers:
            os.kill(worker.pid, signal.SIGKILL)
            worker.join()
