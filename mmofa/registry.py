"""Registries of mmofa: children of MMEngine's root registries.

Their scope is ``mmofa``.

A config names an mmofa component as ``type='OFAMobileNetV3'`` when the default
scope is ``mmofa`` (set by :func:`mmofa.utils.register_all_modules`) or as
``type='mmofa.OFAMobileNetV3'`` from any scope.
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

__all__ = ['MODELS']

MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['mmofa.models'])
