"""Start torch.distributed on CPUs or GPUs."""
import datetime
import os
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.dist import init_dist


def init_distributed(launcher: str,
                     backend: Optional[str] = None,
                     timeout_minutes: Optional[float] = None) -> None:
    """Initialise the process group for ``launcher`` if it is not yet.

    MMEngine's ``pytorch`` launcher calls ``torch.cuda.set_device``, which
    fails without a GPU. Here the ``pytorch`` launcher (torchrun's
    ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR/PORT``) uses
    NCCL on GPUs and gloo on CPUs; other launchers (``slurm``, ``mpi``) go
    to MMEngine.

    Args:
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        backend (str, optional): Forced backend; on a machine without GPUs
            ``'nccl'`` becomes ``'gloo'``.
        timeout_minutes (float, optional): Collective timeout.
    """
    if launcher == 'none' or (dist.is_available() and dist.is_initialized()):
        return
    kwargs = {}
    if timeout_minutes is not None:
        kwargs['timeout'] = datetime.timedelta(minutes=timeout_minutes)
    if launcher != 'pytorch':
        init_dist(launcher, backend=backend or 'nccl', **kwargs)
        return
    missing = [
        k for k in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR',
                    'MASTER_PORT') if k not in os.environ
    ]
    if missing:
        raise RuntimeError(f'--launcher pytorch needs the environment of '
                           f'torchrun; missing {missing} (use '
                           'tools/dist_train.sh)')
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ['LOCAL_RANK']))
        backend = backend or 'nccl'
    else:
        backend = 'gloo'
    dist.init_process_group(
        backend=backend,
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs)
