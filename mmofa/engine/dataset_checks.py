"""Checks of a run's datasets against its model before anything runs: a
head of another class count, evaluation folders of other classes than
training (their labels would silently mean other classes), classes of
very unequal size."""
import logging
from collections import Counter
from typing import List, Optional, Tuple

import numpy as np
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmofa.datasets import innermost_dataset

#: A warning when the largest training class has more than this many
#: times the images of the smallest.
IMBALANCE_RATIO = 10.0


def head_num_classes(model: nn.Module) -> Optional[int]:
    """The class count of a classifier's head (an ``OFA`` supernet's or a
    static model's), None when it has none."""
    if is_model_wrapper(model):
        model = model.module
    model = getattr(model, 'architecture', model)
    head = getattr(model, 'head', None)
    classes = getattr(head, 'num_classes', None)
    return classes if isinstance(classes, int) else None


def _dataset_of(loop) -> Optional[object]:
    dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
    classes = getattr(dataset, 'metainfo', {}).get('classes')
    return dataset if classes else None


def _where(dataset) -> str:
    dataset = innermost_dataset(dataset)
    root = getattr(dataset, 'data_root', '') or ''
    prefix = getattr(dataset, 'data_prefix', {}) or {}
    prefix = prefix.get('img_path', '') if isinstance(prefix, dict) else ''
    if prefix and not str(prefix).startswith(str(root)):
        prefix = f'{root}/{prefix}' if root else prefix
    return str(prefix or root or type(dataset).__name__)


def _labels(dataset) -> Optional[np.ndarray]:
    try:
        labels = innermost_dataset(dataset).get_gt_labels()
        return np.asarray(labels).reshape(-1).astype(int)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _class_counts(dataset) -> List[Tuple[str, int]]:
    labels = _labels(dataset)
    if labels is None:
        return []
    counts = Counter(int(label) for label in labels)
    classes = dataset.metainfo['classes']
    return [(str(name), counts.get(i, 0)) for i, name in enumerate(classes)]


def check_dataset_classes(runner,
                          trained_classes: Optional[list] = None) -> None:
    """Refuse datasets whose classes do not fit the model's head or each
    other; warn when the training classes are very unequal in size.

    Args:
        runner: A runner whose loops are built.
        trained_classes (list, optional): The classes the loaded checkpoint
            was trained on (its ``meta.dataset_meta``), the reference of
            evaluation sets when the run does not train.

    Raises:
        ValueError: A dataset's class count differs from the head's, or an
            evaluation set has other classes (or another order) than the
            training set or the checkpoint.
    """
    num_classes = head_num_classes(runner.model)
    loops = [('train', getattr(runner, '_train_loop', None)),
             ('val', getattr(runner, '_val_loop', None)),
             ('test', getattr(runner, '_test_loop', None))]
    datasets = [(split, _dataset_of(loop)) for split, loop in loops]
    datasets = [(split, d) for split, d in datasets if d is not None]
    for split, dataset in datasets:
        classes = dataset.metainfo['classes']
        if num_classes is None or len(classes) == num_classes:
            continue
        if getattr(type(innermost_dataset(dataset)), 'METAINFO',
                   {}).get('classes'):
            # A known dataset's fixed class list (ImageNet's 1000): a
            # subset of its folders may train a smaller head, as long as
            # every label is one of the head's classes.
            labels = _labels(dataset)
            if labels is None or not labels.size or \
                    labels.max() < num_classes:
                continue
            raise ValueError(
                f'{split}_dataloader.dataset ({_where(dataset)}) has label '
                f'{int(labels.max())} ({classes[int(labels.max())]!r}), '
                f'beyond the model\'s head of {num_classes} classes: set '
                f'num_classes = {len(classes)} in the head (and the data '
                'preprocessor) of the config')
        raise ValueError(
            f'{split}_dataloader.dataset ({_where(dataset)}) has '
            f'{len(classes)} classes, the model\'s head {num_classes}: '
            f'set num_classes = {len(classes)} in the head (and the '
            'data preprocessor) of the config, or give the dataset the '
            'classes the model was trained on')
    train = dict(datasets).get('train')
    reference, origin = None, ''
    if train is not None:
        reference = [str(c) for c in train.metainfo['classes']]
        origin = f'training: {_where(train)}'
    elif trained_classes:
        reference = [str(c) for c in trained_classes]
        origin = 'the classes the checkpoint was trained on'
    for split, dataset in datasets:
        classes = [str(c) for c in dataset.metainfo['classes']]
        if reference is None or split == 'train' or classes == reference:
            continue
        missing = sorted(set(reference) - set(classes))
        extra = sorted(set(classes) - set(reference))
        what = (f'lacks {missing[:5]}' if missing else '') + \
            (' and ' if missing and extra else '') + \
            (f'has {extra[:5]} unknown to the model' if extra else '')
        raise ValueError(
            f'{split}_dataloader.dataset ({_where(dataset)}) '
            f'{what or "orders its classes differently"} ({origin}); its '
            'labels would mean other classes. Give every split the same '
            'class folders, or set metainfo=dict(classes=[...]) on each '
            'dataset')
    if train is not None:
        _warn_imbalance(train)


def _warn_imbalance(train) -> None:
    """Warn of training classes without images or very unequal in size."""
    counts = _class_counts(train)
    if not counts:
        return
    empty = [name for name, n in counts if not n]
    if empty:
        print_log(
            f'training classes without images: {empty[:5]}',
            logger='current',
            level=logging.WARNING)
        return
    largest = max(counts, key=lambda c: c[1])
    smallest = min(counts, key=lambda c: c[1])
    if largest[1] / smallest[1] > IMBALANCE_RATIO:
        print_log(
            f'the training classes are unbalanced: {largest[0]!r} has '
            f'{largest[1]} images, {smallest[0]!r} {smallest[1]} (more '
            f'than {IMBALANCE_RATIO:g}x); accuracy will favour the large '
            'classes: consider a class-balanced sampler or loss weights '
            '(tools/analysis/dataset_stats.py lists all counts)',
            logger='current',
            level=logging.WARNING)
