import pytest
import torch.nn as nn
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import DefaultScope

from mmofa.registry import MODELS
from mmofa.utils import register_all_modules

CONFIGS = [
    dict(type='ElasticConv2d', in_channels=8, out_channels=16),
    dict(type='ElasticDepthwiseConv2d', channels=8, kernel_sizes=[3, 5, 7]),
    dict(type='ElasticBatchNorm2d', num_features=8),
    dict(type='ElasticLinear', in_features=8, out_features=4),
    dict(type='ElasticSqueezeExcitation', channels=32),
    dict(type='OneShotMutableValue', candidates=[3, 5], alias='k'),
    dict(type='OFAMutator'),
    dict(type='OFAMobileNetV3', width_mult=1.0),
    dict(
        type='StaticMobileNetV3',
        kernel_size=[[3]] * 5,
        expand_ratio=[[3]] * 5),
    dict(
        type='DropoutLinearClsHead',
        num_classes=10,
        in_channels=1280,
        dropout_rate=0.1),
    dict(type='OFAResNet48', base_channels=[16, 16, 24, 32]),
    dict(
        type='StaticResNet48',
        out_channels=[16, 16, 24, 32],
        mid_channels=[[8, 16]] * 4),
]


def test_registry_is_a_child_of_the_mmengine_root():
    assert MODELS.scope == 'mmofa' and MODELS.parent is MMENGINE_MODELS


def test_register_all_modules_sets_the_default_scope():
    register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmofa'


@pytest.mark.parametrize('cfg', CONFIGS, ids=[c['type'] for c in CONFIGS])
def test_every_component_builds_from_config(cfg):
    register_all_modules()
    module = MODELS.build(cfg)
    assert type(module).__name__ == cfg['type']
    assert isinstance(module, nn.Module)
    # From any scope with the prefix.
    prefixed = MMENGINE_MODELS.build({**cfg, 'type': f"mmofa.{cfg['type']}"})
    assert type(prefixed) is type(module)
