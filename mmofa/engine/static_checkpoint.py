"""Configs of static (exported) subnets: written next to an exported
subnet, or derived when a supernet config tests a static checkpoint."""
import copy
from typing import Optional

from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmofa.registry import HOOKS, LOOPS, MODELS
from mmofa.utils.checkpoint import load_checkpoint_file

#: What a static subnet's test loop takes from a supernet-only loop.
STATIC_LOOP_KEYS = ('calibrate_bn', 'calibration_dataloader', 'fp16')


def _registered(registry, cfg) -> Optional[type]:
    if not isinstance(cfg, dict) or not isinstance(cfg.get('type'), str):
        return None
    with DefaultScope.overwrite_default_scope('mmofa'):
        return registry.get(cfg['type'])


def _supernet_only(registry, cfg) -> bool:
    return bool(getattr(_registered(registry, cfg), 'supernet_only', False))


def _static_loop(loop_cfg, loop_type: str, resolution: Optional[int]):
    """The subnet loop ``loop_cfg`` becomes for a static model: a
    supernet-only loop (search, population, predictor) a plain
    ``loop_type`` with its BN calibration; a subnet loop without its
    supernet subnet list; at the subnet's resolution if it has one."""
    if not isinstance(loop_cfg, dict):
        return loop_cfg
    if _supernet_only(LOOPS, loop_cfg):
        loop_cfg = dict(
            {k: loop_cfg[k]
             for k in STATIC_LOOP_KEYS if k in loop_cfg},
            type=loop_type)
    elif getattr(_registered(LOOPS, loop_cfg), 'evaluates_subnets', False):
        loop_cfg = {k: v for k, v in loop_cfg.items() if k != 'subnets'}
    else:
        return loop_cfg
    if resolution:
        loop_cfg['resolutions'] = [resolution]
    return loop_cfg


def static_subnet_config(base_cfg: Config,
                         model_cfg: dict,
                         subnet: dict,
                         checkpoint: Optional[str] = None) -> Config:
    """``base_cfg`` (a supernet's training, test or search config) made
    to train, test and fine-tune the static subnet of ``model_cfg``.

    - ``model``: a ``mmofa.SubnetClassifier`` of the static classifier,
      keeping the supernet's ``channels_last`` and, for a subnet without a
      resolution of its own, its training ``resolutions``;
    - hooks that need a supernet (``supernet_only``: progressive
      shrinking, RSS) are removed;
    - supernet-only loops (search, population, predictor) become subnet
      loops with their BN calibration; subnet loops lose their subnet
      list; both evaluate at the subnet's resolution if it has one;
    - ``load_from`` is ``checkpoint`` (the exported weights), ``resume``
      off.

    Args:
        base_cfg (Config): The config to derive from (not changed).
        model_cfg (dict): The static classifier's config
            (``OFA.export_subnet_config()``).
        subnet (dict): The subnet in mmofa's format.
        checkpoint (str, optional): The exported weights.
    """
    cfg = copy.deepcopy(base_cfg)
    supernet = cfg.get('model') or {}
    if str(supernet.get('type', '')).split('.')[-1] == 'SubnetClassifier':
        supernet = {}  # already a static subnet's config
    model = dict(
        type='mmofa.SubnetClassifier', architecture=model_cfg, subnet=subnet)
    if supernet.get('channels_last'):
        model['channels_last'] = True
    if not subnet.get('resolution') and supernet.get('resolutions'):
        model['resolutions'] = supernet['resolutions']
    cfg.model = model
    if 'custom_hooks' in cfg:
        cfg.custom_hooks = [
            h for h in cfg.custom_hooks if not _supernet_only(HOOKS, h)
        ]
    resolution = subnet.get('resolution')
    for key, loop_type in (('val_cfg', 'mmofa.SubnetValLoop'),
                           ('test_cfg', 'mmofa.SubnetTestLoop')):
        if cfg.get(key):
            cfg[key] = _static_loop(cfg[key], loop_type, resolution)
    if checkpoint is not None:
        cfg.load_from = str(checkpoint)
    cfg.resume = False
    cfg.setdefault('default_scope', 'mmofa')
    return cfg


def use_static_model_if_exported(cfg: Config, checkpoint: str) -> bool:
    """Switch ``cfg`` to the static subnet stored in ``checkpoint``.

    A checkpoint written by ``save_subnet`` / ``tools/export_subnet.py``
    holds the weights of a static model and, in ``meta.subnet``, the subnet
    they come from. With a supernet config, ``cfg`` becomes
    :func:`static_subnet_config` of that subnet (tested at its resolution).
    Other checkpoints leave the config unchanged.

    Returns:
        bool: Whether the config was switched.
    """
    meta = load_checkpoint_file(checkpoint).get('meta') or {}
    subnet = meta.get('subnet')
    model_type = str(cfg.model.get('type', ''))
    if subnet is None or model_type.split('.')[-1] != 'OFA':
        return False
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmofa')):
        supernet = MODELS.build(
            dict(cfg.model, subnet=subnet, distillation=None))
        model_cfg = supernet.export_subnet_config()
    static = static_subnet_config(cfg, model_cfg, subnet, checkpoint)
    for key in [k for k in cfg.keys() if k not in static]:
        cfg.pop(key)
    for key, value in static.items():
        cfg[key] = value
    return True
