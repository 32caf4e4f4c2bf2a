import argparse
import subprocess
import sys
import textwrap

import pytest
from helpers import REPO

from mmofa.engine import cli

# Allocate and free a 64 MiB tensor; print where glibc served it from
# (mallinfo2: bytes in mmapped chunks while it lives, free heap bytes kept
# after it is freed, heap size before and after), in MiB.
MALLOC_STATS = textwrap.dedent('''
    import ctypes, sys, torch
    from mmofa.utils import retain_freed_memory
    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks',
            'fsmblks', 'uordblks', 'fordblks', 'keepcost')]
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    if sys.argv[1] == 'retain':
        assert retain_freed_memory() is True
    def stats():
        info = libc.mallinfo2()
        return [info.arena >> 20, info.hblkhd >> 20, info.fordblks >> 20]
    before = stats()
    block = torch.ones(16 * 2**20)
    living = stats()
    del block
    freed = stats()
    print(living[1] - before[1], freed[2] - before[2], freed[0] - before[0])
''')


def malloc_stats(mode):
    out = subprocess.run([sys.executable, '-c', MALLOC_STATS, mode],
                         capture_output=True,
                         text=True,
                         check=True).stdout
    return [int(value) for value in out.split()]


@pytest.mark.skipif(
    not sys.platform.startswith('linux'), reason='glibc malloc')
def test_freed_memory_stays_in_the_heap_for_reuse():
    # glibc's default: a 64 MiB block is a fresh memory mapping, unmapped
    # when freed, so the next pass faults in and zeroes its pages again.
    mapped, kept, heap_growth = malloc_stats('default')
    assert mapped == 64 and kept < 64
    # Retained: served from the heap, and still there (free, unmapped
    # neither by munmap nor by a trim) after it is freed.
    mapped, kept, heap_growth = malloc_stats('retain')
    assert mapped == 0 and kept >= 64 and heap_growth >= 64


def test_tools_retain_freed_memory_by_config(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(cli, 'retain_freed_memory', lambda: calls.append(1))
    args = argparse.Namespace(
        config=str(REPO / 'configs/demo/ofa_mbv3_demo_ps.py'),
        cfg_options=None,
        launcher='none',
        work_dir=str(tmp_path),
        amp=False,
        local_rank=0)
    cfg = cli.setup(args)
    assert cfg.env_cfg.retain_freed_memory is True and calls == [1]
    args.cfg_options = {'env_cfg.retain_freed_memory': False}
    cli.setup(args)
    assert calls == [1]
