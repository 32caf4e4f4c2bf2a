"""patient_group: a rendezvous after uneven work outlasts the default
group's collective timeout (2 CPU processes, gloo, in this test)."""
import datetime
import os
import time

import torch.distributed as dist
import torch.multiprocessing as mp
from helpers import free_port

from mmofa.engine.dist import patient_group

TIMEOUT = 2  # seconds, the default group's
LATE = 4  # seconds rank 1 arrives after rank 0


def _worker(rank, port, out_dir, patient):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=port)
    dist.init_process_group(
        'gloo',
        rank=rank,
        world_size=2,
        timeout=datetime.timedelta(seconds=TIMEOUT))
    group = patient_group(60) if patient else None
    if rank == 1:
        time.sleep(LATE)  # a longer shard
    try:
        parts = [None, None]
        dist.all_gather_object(parts, f'records of rank {rank}', group)
        outcome = ' + '.join(parts)
    except RuntimeError as error:
        outcome = f'failed: {error}'
    with open(os.path.join(out_dir, f'rank{rank}.txt'), 'w') as f:
        f.write(outcome)
    if patient:
        dist.destroy_process_group(group)
        dist.destroy_process_group()
    else:
        # A gloo group that timed out aborts the process when the
        # interpreter tears it down: leave without that teardown.
        os._exit(0)


def run(tmp_path, patient):
    port = free_port()
    mp.spawn(_worker, args=(port, str(tmp_path), patient), nprocs=2)
    return [(tmp_path / f'rank{r}.txt').read_text() for r in (0, 1)]


def test_patient_group_waits_beyond_the_default_timeout(tmp_path):
    assert run(
        tmp_path,
        patient=True) == ['records of rank 0 + records of rank 1'] * 2


def test_default_group_gives_up_after_its_timeout(tmp_path):
    """The premise: the same gather on the default group times out."""
    rank0, _ = run(tmp_path, patient=False)
    assert rank0.startswith('failed:') and 'timed out' in rank0.lower(), \
        rank0
