"""How many CPU threads torch uses: one policy for every tool."""
import os
import time
from contextlib import contextmanager
from typing import Callable, Optional, Tuple

import torch


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cpu_times() -> Optional[Tuple[int, int]]:
    """(busy, total) jiffies of all cores since boot (``/proc/stat``), or
    None where it cannot be read."""
    try:
        with open('/proc/stat') as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    if len(fields) < 4:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # + iowait
    total = sum(fields[:8])  # guest time is counted in user time already
    return total - idle, total


def busy_cores(cores: int,
               interval: float = 0.25,
               sample: Callable[[], Optional[Tuple[int,
                                                   int]]] = cpu_times) -> int:
    """Cores that other work keeps busy now: the busy share of the CPUs
    over ``interval`` seconds while this process waits, times the
    machine's cores (rounded), at most ``cores``. Where ``/proc/stat``
    cannot be read, the 1-minute load average (which lags: a job that
    ended a minute ago still counts); 0 where neither is known."""
    before = sample()
    if before is not None:
        time.sleep(interval)
        after = sample()
        if after is not None and after[1] > before[1]:
            share = (after[0] - before[0]) / (after[1] - before[1])
            machine = os.cpu_count() or cores
            return min(cores, int(round(share * machine)))
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0
    return min(cores, int(round(load)))


def default_num_threads() -> Tuple[int, str]:
    """The default thread count and why: ``OMP_NUM_THREADS`` if set, else
    the cores of this process divided by the processes on this node
    (``LOCAL_WORLD_SIZE``, set by torchrun), less the cores other work
    keeps busy as this run starts (the other processes of this run, which
    start at the same time, not counted; on a loaded 2-core machine one
    thread was 1.4x faster than two, ``benchmarks/bench_threads.py``), at
    least 1."""
    omp = os.environ.get('OMP_NUM_THREADS')
    if omp and omp.isdigit() and int(omp) > 0:
        return int(omp), 'OMP_NUM_THREADS'
    processes = int(os.environ.get('LOCAL_WORLD_SIZE', '1') or 1)
    cores = available_cores()
    busy = max(0, busy_cores(cores) - (processes - 1))
    threads = max(1, min(cores // processes, cores - busy))
    return threads, (f'{cores} cores / {processes} process(es) on this '
                     f'node, {busy} busy with other work')


def set_num_threads(num_threads: Optional[int] = None) -> Tuple[int, str]:
    """Set torch's intra-op threads: ``num_threads`` if given (from
    ``--threads`` or ``env_cfg.num_threads``), else
    :func:`default_num_threads`. Returns the count and where it came from.

    Raises:
        ValueError: ``num_threads`` is not a positive integer.
    """
    if num_threads is None:
        num_threads, how = default_num_threads()
    else:
        if isinstance(
                num_threads,
                bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f'env_cfg.num_threads (or --threads) = '
                             f'{num_threads!r}; allowed: an integer >= 1')
        how = 'env_cfg.num_threads / --threads'
    torch.set_num_threads(num_threads)
    return num_threads, how


@contextmanager
def torch_threads(num_threads: int):
    """Run the block with ``num_threads`` torch intra-op threads, then
    restore the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
