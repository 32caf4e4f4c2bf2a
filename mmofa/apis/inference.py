"""A small Python API for scripts and notebooks."""
import copy
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from mmofa.version import __version__

ConfigLike = Union[str, Path, Config, dict]


def _as_config(config: ConfigLike) -> Config:
    if isinstance(config, (str, Path)):
        if not Path(config).is_file():
            raise FileNotFoundError(f'config {str(config)!r} does not exist')
        return Config.fromfile(str(config))
    if isinstance(config, Config):
        return copy.deepcopy(config)
    if isinstance(config, dict):
        return Config(copy.deepcopy(config))
    raise TypeError('config must be a path, a Config or a dict, got '
                    f'{type(config).__name__}')


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
    cfg = _as_config(config)
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


def save_subnet(model: nn.Module,
                out_file: Union[str, Path],
                subnet=None,
                base_cfg: Optional[ConfigLike] = None) -> Dict[str, Path]:
    """Export a subnet of an ``OFA`` model to a static checkpoint and files.

    Writes ``out_file`` (the static model's weights and the subnet in its
    ``meta``), ``<stem>.yaml`` (the subnet in mmofa's format) and
    ``<stem>_config.py`` (the model's config with the static model in it).

    Args:
        model: An ``OFA`` model, built by :func:`init_model` (it keeps the
            config) or from a config dict.
        out_file: Path of the checkpoint to write (``.pth``).
        subnet: The subnet in any accepted form; defaults to the active one.
        base_cfg: The config whose other settings (data, runtime) the
            written config keeps; defaults to ``model.cfg`` if the model
            has one.

    Returns:
        dict: The paths written: ``checkpoint``, ``subnet``, ``config``.
    """
    from mmofa.utils.paths import check_writable_file
    check_writable_file(out_file, 'save_subnet out_file')
    if subnet is not None:
        model.set_subnet(subnet)
    return write_static_subnet(model.export_subnet().state_dict(),
                               model.dump_subnet(fmt='mmofa'),
                               model.export_subnet_config(), out_file, base_cfg
                               or getattr(model, 'cfg', None))


def write_static_subnet(state_dict: dict,
                        subnet: dict,
                        model_cfg: dict,
                        out_file: Union[str, Path],
                        base_cfg: Optional[ConfigLike] = None,
                        meta: Optional[dict] = None) -> Dict[str, Path]:
    """Write a static subnet: checkpoint, mmofa subnet YAML and config.

    Args:
        state_dict: Weights of the static model.
        subnet: The subnet in mmofa's format (stored in ``meta.subnet``).
        model_cfg: Config of the static model.
        out_file: The checkpoint to write; the YAML and config go next to
            it (``<stem>.yaml``, ``<stem>_config.py``).
        base_cfg: A config whose other settings (data, runtime) the written
            config keeps, made to train and test the static subnet (see
            :func:`~mmofa.engine.static_checkpoint.static_subnet_config`).
        meta: More entries for the checkpoint's ``meta``.
    """
    from mmofa.engine.static_checkpoint import static_subnet_config
    from mmofa.structures import write_subnet_file
    from mmofa.utils.checkpoint import save_checkpoint_file

    out_file = Path(out_file)
    stem = out_file.with_suffix('')
    paths = dict(
        checkpoint=out_file,
        subnet=stem.with_suffix('.yaml'),
        config=stem.parent / f'{stem.name}_config.py')
    save_checkpoint_file(
        dict(
            state_dict=state_dict,
            meta=dict(
                subnet=subnet, mmofa_version=__version__, **(meta or {}))),
        paths['checkpoint'])
    write_subnet_file(subnet, paths['subnet'])
    cfg = static_subnet_config(
        _as_config(base_cfg or {}), model_cfg, subnet, str(out_file))
    cfg.dump(str(paths['config']))
    return paths
