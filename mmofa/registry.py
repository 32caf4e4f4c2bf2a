"""Registries of mmofa: children of MMEngine's root registries, scope ``mmofa``.

A config names an mmofa component as ``type='OFAMobileNetV3'`` when the default
scope is ``mmofa`` (set by :func:`mmofa.utils.register_all_modules`) or as
``type='mmofa.OFAMobileNetV3'`` from any scope.
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import Registry

__all__ = ['MODELS', 'TASK_UTILS']

MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['mmofa.models'])
TASK_UTILS = Registry(
    'task util', parent=MMENGINE_TASK_UTILS, locations=['mmofa.models'])
