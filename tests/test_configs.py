"""Every config parses and its model builds."""
import inspect

import pytest
from helpers import REPO
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmofa.registry import LOOPS, MODELS
from mmofa.utils import register_all_modules

# configs/custom/my_dataset.py describes a dataset only, for the recipes
# beside it (tests/test_tools/test_custom_recipes.py runs them).
CONFIGS = sorted(
    p.relative_to(REPO).as_posix() for p in (REPO / 'configs').rglob('*.py')
    if '_base_' not in p.parts and p.name != 'my_dataset.py')


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds(path):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(REPO / path))
    assert cfg.default_scope == 'mmofa'
    model_cfg = cfg.model
    if model_cfg.get('distillation') is not None:
        # The teacher checkpoint is the output of an earlier stage.
        model_cfg = dict(model_cfg, distillation=None)
    expected = 'OFA'
    if model_cfg.get('type') == 'mmofa.SubnetClassifier':
        # The subnet is given on the command line (a file of a search).
        model_cfg = dict(
            model_cfg, subnet=dict(ks=[5] * 20, e=[4] * 20, d=[3] * 5))
        expected = 'SubnetClassifier'
    with DefaultScope.overwrite_default_scope('mmofa'):
        model = MODELS.build(model_cfg)
    assert type(model).__name__ == expected
    # The loops' arguments are those their classes take.
    for name in ('val_cfg', 'test_cfg'):
        loop = dict(cfg.get(name) or {})
        if str(loop.get('type', '')).startswith('mmofa.'):
            cls = LOOPS.get(loop.pop('type'))
            inspect.signature(cls).bind(None, None, None, **loop)


@pytest.mark.parametrize('name,classes,root', [
    ('cifar10_bs64.py', 10, 'data/cifar10'),
    ('cifar100_bs64.py', 100, 'data/cifar100'),
])
def test_cifar_configs(name, classes, root):
    cfg = Config.fromfile(str(REPO / 'configs/_base_/datasets' / name))
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        assert loader.dataset.type == f'CIFAR{classes}'
        assert loader.dataset.data_root == root
    assert cfg.data_preprocessor.num_classes == classes
