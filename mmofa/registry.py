"""Registries of mmofa: children of MMEngine's root registries.

Their scope is ``mmofa``. A config names an mmofa component as
``type='OFAMobileNetV3'`` when the default scope is ``mmofa`` (set by
:func:`mmofa.utils.register_all_modules`) or as ``type='mmofa.OFAMobileNetV3'``
from any scope.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

__all__ = [
    'MODELS', 'MODEL_WRAPPERS', 'HOOKS', 'LOOPS', 'PARAM_SCHEDULERS',
    'DATA_SAMPLERS', 'TRANSFORMS'
]

MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['mmofa.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    locations=['mmofa.engine'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['mmofa.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['mmofa.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    locations=['mmofa.engine'])
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    locations=['mmofa.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, locations=['mmofa.datasets'])
