import argparse
import subprocess
import sys
import textwrap

import pytest
from helpers import REPO

from mmofa.engine import cli

# Allocate, touch and free 64 MiB blocks; count page faults once warm.
FAULTS = textwrap.dedent('''
    import resource, torch
    from mmofa.utils import retain_freed_memory
    assert retain_freed_memory() is True
    def passes(n):
        for _ in range(n):
            block = torch.ones(16 * 2**20)
            del block
    passes(2)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    passes(10)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
''')


@pytest.mark.skipif(
    not sys.platform.startswith('linux'), reason='glibc malloc')
def test_freed_memory_is_reused_without_page_faults():
    faults = int(
        subprocess.run([sys.executable, '-c', FAULTS],
                       capture_output=True,
                       text=True,
                       check=True).stdout)
    # Each pass touches 16384 pages of 4 KiB; served from fresh mappings
    # they would all fault again.
    assert faults < 0.02 * 10 * 16384


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
