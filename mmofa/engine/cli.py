"""What mmofa's runner tools share: arguments, set-up, the runner."""
import argparse
import difflib
import inspect
import os
import os.path as osp
from typing import Iterable, List

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmofa.engine.dist import init_distributed
from mmofa.utils import register_all_modules, retain_freed_memory
from mmofa.utils.checkpoint import allow_checkpoint_globals
from mmofa.utils.paths import check_writable_dir
from mmofa.utils.threads import set_num_threads

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
        '--allow-new-keys',
        action='store_true',
        help='let --cfg-options add top-level keys that neither the config '
        "nor MMEngine's Runner knows (refused by default: a misspelled key "
        'would be ignored silently)')
    parser.add_argument(
        '--threads',
        type=int,
        help='torch CPU threads per process (default: env_cfg.num_threads, '
        'else OMP_NUM_THREADS, else the cores of this process divided by '
        'the processes per node)')
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
        check_option_keys(cfg, args.cfg_options,
                          getattr(args, 'allow_new_keys', False))
        cfg.merge_from_dict(args.cfg_options)
    if getattr(args, 'threads', None) is not None:
        cfg.setdefault('env_cfg', {})['num_threads'] = args.threads
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    check_writable_dir(cfg.work_dir, 'work_dir')
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
    cfg.env_cfg = dict(cfg.get('env_cfg') or {})
    cfg.env_cfg['num_threads'], how = set_num_threads(
        cfg.env_cfg.get('num_threads'))
    print_log(
        f'torch CPU threads: {cfg.env_cfg["num_threads"]} ({how})',
        logger='current')
    return cfg


#: Top-level config keys with a meaning besides the Runner's arguments.
KNOWN_TOP_LEVEL_KEYS = {
    'runner_type', 'load_from_exclude', 'launcher', 'work_dir', 'resume',
    'load_from', 'default_scope', 'model_wrapper_cfg', 'custom_hooks'
}


def known_top_level_keys(cfg: Config) -> List[str]:
    """Keys a config may have at its top level: its own, MMEngine
    Runner's arguments and mmofa's (:data:`KNOWN_TOP_LEVEL_KEYS`)."""
    runner_args = inspect.signature(Runner.__init__).parameters
    return sorted(
        set(cfg.keys()) | set(runner_args) - {'self'}
        | KNOWN_TOP_LEVEL_KEYS)


def _close(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f' (did you mean {close[0]!r}?)' if close else ''


def check_option_keys(cfg: Config,
                      options: dict,
                      allow_new_keys: bool = False) -> None:
    """Refuse (or with ``allow_new_keys`` warn about) ``--cfg-options``
    keys whose top level the config does not know, naming the closest
    known key; warn about a deeper key absent from its dict when a
    present key is close to it (``train_cfg.max_epoch``)."""
    known = known_top_level_keys(cfg)
    for option in options:
        parts = option.split('.')
        if parts[0] not in known:
            message = (
                f'--cfg-options {option}: {parts[0]!r} is not a key '
                f'of this config nor of the Runner{_close(parts[0], known)}')
            if not allow_new_keys:
                raise KeyError(message + '; give --allow-new-keys to add it '
                               'anyway')
            print_log(
                message + '; added (--allow-new-keys)',
                logger='current',
                level=30)
            continue
        node = cfg.get(parts[0])
        for depth in range(1, len(parts)):
            if not isinstance(node, dict):
                break
            part = parts[depth]
            if part not in node:
                hint = _close(part, [str(k) for k in node])
                if hint:
                    print_log(
                        f'--cfg-options {option}: '
                        f'{".".join(parts[:depth])} has no key {part!r}'
                        f'{hint}; it is added',
                        logger='current',
                        level=30)
                break
            node = node[part]


def build_runner(cfg: Config) -> Runner:
    """The config's ``runner_type`` if it names one, else mmofa's
    :class:`~mmofa.engine.runner.CheckedRunner`."""
    from mmofa.engine.runner import CheckedRunner
    from mmofa.registry import RUNNERS
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return CheckedRunner.from_cfg(cfg)
