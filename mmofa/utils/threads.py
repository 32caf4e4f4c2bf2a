"""How many CPU threads torch uses: one policy for every tool."""
import os
from typing import Optional, Tuple

import torch


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def busy_cores(cores: int) -> int:
    """Cores that other work keeps busy now: the machine's 1-minute load
    average (rounded), at most ``cores``; 0 where it is unknown."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0
    return min(cores, int(round(load)))


def default_num_threads() -> Tuple[int, str]:
    """The default thread count and why: ``OMP_NUM_THREADS`` if set, else
    the cores of this process divided by the processes on this node
    (``LOCAL_WORLD_SIZE``, set by torchrun), less the cores other work
    keeps busy (the load average before this run starts: on a loaded
    2-core machine one thread was 1.4x faster than two,
    ``benchmarks/bench_threads.py``), at least 1."""
    omp = os.environ.get('OMP_NUM_THREADS')
    if omp and omp.isdigit() and int(omp) > 0:
        return int(omp), 'OMP_NUM_THREADS'
    processes = int(os.environ.get('LOCAL_WORLD_SIZE', '1') or 1)
    cores = available_cores()
    busy = busy_cores(cores)
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
