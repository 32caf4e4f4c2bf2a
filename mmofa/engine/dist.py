"""Start torch.distributed on CPUs or GPUs."""
import datetime
import os
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.dist import init_dist


def init_distributed(launcher: str,
                     backend: Optional[str] = None,
                     timeout: Optional[float] = None) -> None:
    """Initialise the process group for ``launcher`` if it is not yet.

    MMEngine's ``pytorch`` and ``slurm`` launchers call
    ``torch.cuda.set_device``, which fails without a GPU. Here the
    ``pytorch`` launcher (torchrun's ``RANK``, ``LOCAL_RANK``,
    ``WORLD_SIZE``, ``MASTER_ADDR/PORT``) uses NCCL on GPUs and gloo on
    CPUs; ``slurm`` takes the same variables from srun's (see
    :func:`slurm_environment`); ``mpi`` goes to MMEngine.

    Args:
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        backend (str, optional): Forced backend; on a machine without GPUs
            ``'nccl'`` becomes ``'gloo'``.
        timeout (float, optional): Collective timeout in seconds
            (``env_cfg.dist_cfg.timeout``, as in MMEngine); None keeps
            PyTorch's default.
    """
    if launcher == 'none' or (dist.is_available() and dist.is_initialized()):
        return
    if launcher == 'slurm':
        os.environ.update(slurm_environment())
        launcher = 'pytorch'
    if launcher != 'pytorch':  # MMEngine takes seconds itself
        init_dist(
            launcher,
            backend=backend or 'nccl',
            **({} if timeout is None else dict(timeout=timeout)))
        return
    kwargs = {}
    if timeout is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=timeout)
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


def slurm_environment(default_port: int = 29500) -> dict:
    """torchrun's variables from those of ``srun``: ``RANK`` from
    ``SLURM_PROCID``, ``WORLD_SIZE`` from ``SLURM_NTASKS``, ``LOCAL_RANK``
    from ``SLURM_LOCALID``, ``MASTER_ADDR`` (unless set) the first host of
    ``SLURM_NODELIST`` (by ``scontrol show hostnames``), ``MASTER_PORT``
    (unless set) ``default_port``."""
    missing = [
        k for k in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID')
        if k not in os.environ
    ]
    if missing:
        raise RuntimeError(f'--launcher slurm needs the environment of srun;'
                           f' missing {missing} (use tools/slurm_train.sh)')
    env = dict(
        RANK=os.environ['SLURM_PROCID'],
        WORLD_SIZE=os.environ['SLURM_NTASKS'],
        LOCAL_RANK=os.environ['SLURM_LOCALID'],
        MASTER_PORT=os.environ.get('MASTER_PORT', str(default_port)))
    if 'MASTER_ADDR' in os.environ:
        env['MASTER_ADDR'] = os.environ['MASTER_ADDR']
    else:
        import subprocess
        nodes = os.environ.get('SLURM_NODELIST', '')
        hosts = subprocess.run(['scontrol', 'show', 'hostnames', nodes],
                               capture_output=True,
                               text=True,
                               check=True).stdout.split()
        env['MASTER_ADDR'] = hosts[0]
    if 'SLURM_NTASKS_PER_NODE' in os.environ:
        env['LOCAL_WORLD_SIZE'] = os.environ['SLURM_NTASKS_PER_NODE'].split(
            '(')[0]
    return env


def patient_group(timeout: float) -> dist.ProcessGroup:
    """A gloo group of all processes whose collectives wait ``timeout``
    seconds, for a rendezvous after work of uneven length (shards of a
    population) that the default group's timeout would cut short. Every
    process must call it at the same point; free it with
    ``dist.destroy_process_group(group)``."""
    return dist.new_group(
        backend='gloo', timeout=datetime.timedelta(seconds=timeout))


def finish_distributed() -> None:
    """End a distributed run cleanly: wait for every process, then free the
    process group before the interpreter exits (left to the exit, gloo's
    threads may abort a process that has finished its work). No-op when not
    distributed."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
