"""Keep freed CPU memory in the process for reuse (glibc malloc)."""
import ctypes
import ctypes.util

# mallopt parameters of glibc's malloc.h.
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
# A trim threshold (a C int) never reached between passes.
TRIM_THRESHOLD = 2**31 - 1


def retain_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse.

    A CPU forward pass allocates and frees activations of several MiB per
    layer. By default glibc serves such blocks with fresh memory mappings
    and unmaps them when freed (and trims freed heap tops), so the next
    pass faults in and zeroes the same pages again: on a 2-core machine
    that was more than half the time of an eval forward of OFA
    MobileNetV3 at batch 32 (docs/benchmarks.md). This serves every block
    from the heap and never trims it, for the whole process: memory use
    stays at the peak of the run instead of shrinking between passes.

    The tools call it when ``env_cfg.retain_freed_memory`` is true (the
    default runtime config sets it). Returns whether it took effect: False,
    changing nothing, where the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c'))
    except OSError:
        return False
    if not hasattr(libc, 'gnu_get_libc_version'):  # not glibc
        return False
    mallopt = libc.mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(
        mallopt(M_MMAP_MAX, 0) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
