"""What tools/train.py and tools/test.py share: arguments and set-up."""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction

from mmofa.engine.dist import init_distributed
from mmofa.utils import register_all_modules, retain_freed_memory
from mmofa.utils.checkpoint import allow_checkpoint_globals

WRAPPER = dict(type='mmofa.SupernetDistributedWrapper')


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. model.num_subnets=2')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (tools/dist_train.sh uses pytorch)')
    # torch.distributed.launch passes --local-rank (torch >= 2) or
    # --local_rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def setup(args: argparse.Namespace) -> Config:
    """The config with the command line applied; the process group up."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    # MMEngine loads checkpoints with torch.load(weights_only=True); allow
    # exactly the globals it writes, nothing more.
    allow_checkpoint_globals()
    register_all_modules(init_default_scope=False)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config {args.config!r} does not exist')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        if not torch.cuda.is_available():
            raise RuntimeError('--amp needs a GPU: mixed precision on CPU is '
                               'not supported by the optimizer wrapper')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    # MMEngine's default DistributedDataParallel needs device_ids (GPU
    # only); this wrapper runs on CPU and GPU alike.
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(WRAPPER)
    if cfg.get('env_cfg', {}).get('retain_freed_memory', False):
        retain_freed_memory()
    dist_cfg = cfg.get('env_cfg', {}).get('dist_cfg', {})
    init_distributed(args.launcher, dist_cfg.get('backend'),
                     dist_cfg.get('timeout'))
    return cfg
