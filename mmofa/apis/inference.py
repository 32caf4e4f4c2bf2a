"""A small Python API for scripts and notebooks."""
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Optional, Sequence, Union

import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from mmofa.engine.subnet_export import (save_subnet, save_subnet_for_mmrazor,
                                        write_static_subnet)
from mmofa.utils.config import ConfigLike, as_config

__all__ = [
    'init_model', 'save_subnet', 'save_subnet_for_mmrazor',
    'write_static_subnet'
]


@contextmanager
def _quiet_logger():
    """Hide MMEngine's per-parameter initialisation report."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def init_model(config: ConfigLike,
               checkpoint: Optional[Union[str, Path]] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None,
               exclude: Sequence[str] = ()) -> nn.Module:
    """Build a model from a config, load weights, return it in eval mode.

    Args:
        config: Path of a config file, a ``Config`` or a dict; its ``model``
            is built (a supernet ``OFA`` or an exported static subnet).
        checkpoint: Weights to load (strictly, ``weights_only=True``). When
            None, the model keeps its initialisation (Once-for-All's).
        device (str): Device to move the model to. Defaults to 'cpu'.
        cfg_options (dict, optional): Overrides merged into the config.
        exclude (Sequence[str]): ``fnmatch`` patterns of weights the model
            keeps instead of taking them from the checkpoint (e.g.
            ``['architecture.head.fc.*']`` for a head of other classes);
            every other key must fit.

    Returns:
        nn.Module: The model in eval mode, its config as ``model.cfg``.
    """
    from mmofa.registry import MODELS
    from mmofa.utils import register_all_modules
    from mmofa.utils.checkpoint import load_model_weights
    from mmofa.utils.device import check_device

    device = check_device(device, 'init_model(device=...)')
    cfg = as_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError('the config has no `model`')
    register_all_modules(init_default_scope=False)
    scope = cfg.get('default_scope', 'mmofa')
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(cfg.model)
    if checkpoint is None:
        with _quiet_logger():
            model.init_weights()
    else:
        load_model_weights(model, checkpoint, exclude)
    model.cfg = cfg
    return model.to(device).eval()
