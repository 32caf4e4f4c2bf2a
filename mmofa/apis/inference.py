"""A small Python API for scripts and notebooks."""
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from mmofa.engine.subnet_export import (save_subnet, save_subnet_for_mmrazor,
                                        write_static_subnet)
from mmofa.utils.config import ConfigLike, as_config

__all__ = [
    'init_model', 'inference_model', 'save_subnet', 'save_subnet_for_mmrazor',
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
        nn.Module: The model in eval mode, its config as ``model.cfg`` and,
        when the checkpoint's ``meta`` (or else the config) has a
        ``dataset_meta``, that as ``model.dataset_meta`` (the class names
        of mmpretrain and mmengine checkpoints).
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
    meta = {}
    if checkpoint is None:
        with _quiet_logger():
            model.init_weights()
    else:
        meta = load_model_weights(model, checkpoint, exclude)
    dataset_meta = meta.get('dataset_meta') or cfg.get('dataset_meta')
    if dataset_meta:
        model.dataset_meta = dict(dataset_meta)
    model.cfg = cfg
    return model.to(device).eval()


def _model_resolution(model) -> Optional[int]:
    """The input size ``model`` evaluates at: a static subnet's, or the
    active subnet's of a supernet (None: as the pipeline has it)."""
    if hasattr(model, 'current_subnet'):
        return model.current_subnet().resolution
    return getattr(model, 'resolution', None)


def _test_pipeline(model) -> List[dict]:
    import copy

    from mmofa.engine.runner.subnet_loops import set_eval_size
    cfg = getattr(model, 'cfg', None) or {}
    for key in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(key) or {}
        pipeline = (loader.get('dataset') or {}).get('pipeline')
        if pipeline:
            break
    else:
        raise ValueError('inference_model needs the test pipeline of the '
                         "model's config (test_dataloader.dataset.pipeline); "
                         'the config has none')
    pipeline = copy.deepcopy(list(pipeline))
    resolution = _model_resolution(model)
    if resolution:
        set_eval_size(pipeline, resolution)
    return pipeline


@torch.no_grad()
def inference_model(model: nn.Module,
                    images: Sequence[Union[str, Path, np.ndarray]],
                    batch_size: int = 16) -> List[dict]:
    """Classify images with a model from :func:`init_model`.

    Each image (a file path, or an HxWx3 BGR uint8 array as cv2 reads it)
    goes through the test pipeline of the model's config, resized to the
    model's resolution (a static subnet's, or the active subnet's).

    Returns:
        list[dict]: Per image ``pred_label`` (int), ``pred_score`` (its
        probability), ``pred_scores`` (all classes, a numpy array) and
        ``pred_class``, the class name when the model's ``dataset_meta``
        names its classes (else None).
    """
    from mmengine.dataset import Compose, pseudo_collate

    from mmofa.registry import TRANSFORMS
    from mmofa.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    pipeline = _test_pipeline(model)
    loads = str(pipeline[0].get('type', '')).endswith('LoadImageFromFile')
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        from_file = Compose([TRANSFORMS.build(t) for t in pipeline])
        from_array = Compose(
            [TRANSFORMS.build(t) for t in pipeline[int(loads):]])
    classes = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    results = []
    for start in range(0, len(images), batch_size):
        batch = []
        for image in images[start:start + batch_size]:
            if isinstance(image, np.ndarray):
                shape = image.shape[:2]
                batch.append(
                    from_array(
                        dict(img=image, img_shape=shape, ori_shape=shape)))
            elif loads:
                batch.append(from_file(dict(img_path=str(image))))
            else:
                raise ValueError('the test pipeline has no LoadImageFromFile'
                                 f': give images as arrays, not {image!r}')
        for sample in model.test_step(pseudo_collate(batch)):
            scores = sample.pred_score.float().cpu().numpy()
            label = int(sample.pred_label)
            results.append(
                dict(
                    pred_label=label,
                    pred_score=float(scores[label]),
                    pred_scores=scores,
                    pred_class=str(classes[label])
                    if classes and label < len(classes) else None))
    return results
