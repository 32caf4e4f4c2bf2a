"""Exported subnets on disk: the static checkpoint, its subnet YAML and
the config that trains and tests it (``save_subnet``, used by the tools,
the search and the converter), or the files MMRazor loads
(``save_subnet_for_mmrazor``); re-exported by :mod:`mmofa.apis`."""
from pathlib import Path
from typing import Dict, Mapping, Optional, Union

import torch.nn as nn

from mmofa.structures import write_subnet_file
from mmofa.utils.checkpoint import save_checkpoint_file
from mmofa.utils.config import ConfigLike, as_config
from mmofa.utils.paths import check_writable_file
from mmofa.version import __version__
from .static_checkpoint import static_subnet_config


def class_names_meta(metainfo: Optional[Mapping]) -> Optional[dict]:
    """``dict(classes=[...])`` of a dataset's or a model's ``metainfo``
    (mmpretrain's ``dataset_meta``), None when it names no classes."""
    classes = (metainfo or {}).get('classes')
    return dict(classes=[str(c) for c in classes]) if classes else None


def save_subnet(model: nn.Module,
                out_file: Union[str, Path],
                subnet=None,
                base_cfg: Optional[ConfigLike] = None,
                dataset_meta: Optional[Mapping] = None) -> Dict[str, Path]:
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
        dataset_meta: The class names (``dict(classes=[...])``) for the
            checkpoint's ``meta`` and the config; defaults to the model's
            ``dataset_meta`` (set by :func:`init_model` from its
            checkpoint).

    Returns:
        dict: The paths written: ``checkpoint``, ``subnet``, ``config``.
    """
    check_writable_file(out_file, 'save_subnet out_file')
    if subnet is not None:
        model.set_subnet(subnet)
    classes = class_names_meta(
        dataset_meta or getattr(model, 'dataset_meta', None))
    return write_static_subnet(
        model.export_subnet().state_dict(),
        model.dump_subnet(fmt='mmofa'),
        model.export_subnet_config(),
        out_file,
        base_cfg or getattr(model, 'cfg', None),
        meta=dict(dataset_meta=classes) if classes else None)


def save_subnet_for_mmrazor(model: nn.Module,
                            out_file: Union[str, Path],
                            subnet=None) -> Dict[str, Path]:
    """Export a subnet of an OFA MobileNetV3 model as MMRazor 1.0 uses it.

    Writes ``out_file``, the static model's weights in the layout of
    MMRazor's released subnet checkpoints (keys ``architecture.backbone...``
    with the two channel masks: its ``ofa_mobilenet_subnet_8xb256_in1k.py``
    loads them strictly with ``prefix='architecture.'``), and
    ``<stem>.yaml``, the subnet as MMRazor's alias YAML (every block,
    ``input_shape`` always).

    Raises:
        SubnetError: The subnet's resolution is not one of MMRazor's.
    """
    from mmofa.apis.convert import to_mmrazor_state_dict
    check_writable_file(out_file, 'save_subnet_for_mmrazor out_file')
    if subnet is not None:
        model.set_subnet(subnet)
    aliases = model.dump_subnet(fmt='mmrazor')
    out_file = Path(out_file)
    paths = dict(checkpoint=out_file, subnet=out_file.with_suffix('.yaml'))
    state_dict = to_mmrazor_state_dict(model.export_subnet().state_dict(),
                                       str(out_file))
    save_checkpoint_file(
        dict(
            state_dict=state_dict,
            meta=dict(
                subnet=model.dump_subnet(fmt='mmofa'),
                mmofa_version=__version__)), paths['checkpoint'])
    write_subnet_file(aliases, paths['subnet'])
    return paths


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
        meta: More entries for the checkpoint's ``meta``; its
            ``dataset_meta`` (the class names) also goes into the config.
    """
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
        as_config(base_cfg or {}), model_cfg, subnet, str(out_file))
    cfg.pop('work_dir', None)  # the default work dir of where it is used
    if (meta or {}).get('dataset_meta'):
        cfg.dataset_meta = meta['dataset_meta']
    cfg.dump(str(paths['config']))
    return paths
