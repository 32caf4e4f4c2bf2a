"""Bad input and untrusted files: clear errors, nothing half-written."""
import re

import pytest
import torch
from helpers import (W10_CONFIG, make_batch, make_imagenet_like, run_tool,
                     tiny_supernet_cfg)
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope

from mmofa.apis import init_model
from mmofa.registry import DATASETS, HOOKS, LOOPS, MODELS, PARAM_SCHEDULERS
from mmofa.structures import SubnetError, read_subnet_file
from mmofa.utils import register_all_modules
from mmofa.utils.checkpoint import CheckpointError


@pytest.mark.parametrize('registry,cfg,pattern', [
    (MODELS, dict(type='OFAMobileNetV3', kernel_size=[3, 5]),
     r"'kernel_size' \(did you mean 'kernel_sizes'\?\); allowed: "
     r'base_widths, depths, expand_ratios'),
    (MODELS, dict(type='OFA', architecture={}, num_subnet=2),
     r"OFA got unknown argument\(s\) 'num_subnet' \(did you mean "
     r"'num_subnets'\?\)"),
    (MODELS, dict(type='OFAMutator', custom_group={}),
     r"'custom_group' \(did you mean 'custom_groups'\?\)"),
    (MODELS, dict(type='DropoutLinearClsHead', num_class=10,
                  in_channels=8), r"did you mean 'num_classes'"),
    (MODELS, dict(type='KDLoss', kdtype='ce'), r"did you mean 'kd_type'"),
    (HOOKS, dict(type='ProgressiveShrinkingHook',
                 stage=[]), r"did you mean 'stages'"),
    (LOOPS,
     dict(
         type='SubnetValLoop',
         runner=None,
         dataloader={},
         evaluator={},
         subnet=['max']), r"did you mean 'subnets'"),
    (PARAM_SCHEDULERS, dict(type='StagedCosineLR', optimizer=None,
                            stage=[]), r"did you mean 'stages'"),
])
def test_misspelled_config_keys(registry, cfg, pattern):
    register_all_modules()
    with pytest.raises(TypeError, match=pattern):
        registry.build(cfg)


def test_misspelled_key_through_the_train_tool(tmp_path):
    result = run_tool(
        'tools/train.py',
        'configs/demo/ofa_mbv3_demo_ps.py',
        '--work-dir',
        tmp_path,
        '--cfg-options',
        'model.architecture.backbone.depth=[2,3]',
        check=False)
    assert result.returncode != 0
    assert "OFAMobileNetV3 got unknown argument(s) 'depth' (did you mean " \
        "'depths'?)" in result.stderr


def test_subnet_files_with_a_key_twice(tmp_path):
    yaml_file = tmp_path / 'twice.yaml'
    yaml_file.write_text('depth: [2, 2, 2, 2, 2]\nkernel_size: []\n'
                         'depth: [3, 3, 3, 3, 3]\n')
    with pytest.raises(
            SubnetError, match="key 'depth' appears twice "
            r'\(lines 1 and 3\)'):
        read_subnet_file(yaml_file)
    json_file = tmp_path / 'twice.json'
    json_file.write_text('{"ks": 3, "e": 3, "d": 2, "ks": 5}')
    with pytest.raises(SubnetError, match=r"keys \['ks'\] appear twice"):
        read_subnet_file(json_file)


def test_resolutions_the_model_cannot_take():
    model = init_model(W10_CONFIG)
    with pytest.raises(
            SubnetError,
            match=r'resolution = 16 is below 32, '
            "the network's total stride"):
        model.set_subnet(dict(ks=3, e=3, d=2, image_size=16))
    with pytest.raises(
            SubnetError, match=r"resolution = 'big' must be a "
            'positive integer'):
        model.set_subnet(dict(ks=3, e=3, d=2, image_size='big'))


def test_a_checkpoint_of_another_architecture(tmp_path):
    from ofa.imagenet_classification.elastic_nn.networks import OFAResNets
    path = tmp_path / 'resnet.pth'
    torch.save({'state_dict': OFAResNets().state_dict()}, path)
    with pytest.raises(CheckpointError) as error:
        init_model(W10_CONFIG, path)
    assert re.search(
        r'(?s)does not fit OFA:\n  475 missing: .*\n  \d+ unexpected: '
        r'blocks\.0.*looks like an official Once-for-All checkpoint',
        str(error.value))


def test_nonfinite_loss_raises_or_skips():
    batch = make_batch(4, 48)
    batch['inputs'][0] = batch['inputs'][0].float().fill_(float('nan'))
    model = init_model(dict(model=tiny_supernet_cfg(num_subnets=2)))
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    model.train()
    with pytest.raises(
            FloatingPointError,
            match=r'iteration 0: the loss of '
            r'subnet 0 \(MobileNetV3Subnet\(depth=.*\) is not '
            r"finite .*; set model.nonfinite_loss='skip'"):
        model.train_step(batch, optim)

    model = init_model(dict(model=tiny_supernet_cfg(nonfinite_loss='skip')))
    model.train()
    before = {k: v.clone() for k, v in model.named_parameters()}
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log_vars = model.train_step(batch, optim)
    assert log_vars['skipped_steps'] == 1
    for key, value in model.named_parameters():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in model.parameters())


def _corrupt_dataset(tmp_path, on_error):
    root = make_imagenet_like(tmp_path, num_train=6, num_val=2, size=32)
    (root / 'train' / '0001.png').write_bytes(b'')  # empty
    good = (root / 'train' / '0002.png').read_bytes()
    (root / 'train' / '0002.png').write_bytes(good[:len(good) // 3])
    register_all_modules()
    with DefaultScope.overwrite_default_scope('mmofa'):
        return DATASETS.build(
            dict(
                _scope_='mmpretrain',
                type='ImageNet',
                data_root=str(root),
                split='train',
                pipeline=[
                    dict(type='mmofa.LoadImageFromFile', on_error=on_error),
                    dict(type='PackInputs')
                ]))


def test_unreadable_images_raise_by_default(tmp_path):
    dataset = _corrupt_dataset(tmp_path, 'raise')
    with pytest.raises(ValueError) as error:
        dataset[1]
    assert re.search(
        r"(?s)cannot read image .*0001.png .*set "
        r"on_error='skip'", str(error.value))


def test_unreadable_images_are_skipped_and_counted(tmp_path):
    from mmofa.datasets import LoadImageFromFile
    dataset = _corrupt_dataset(tmp_path, 'skip')
    items = [dataset[i] for i in range(len(dataset))]
    assert all(item['inputs'].shape == (3, 32, 32) for item in items)
    skipped = {
        p.rsplit('/', 1)[-1]
        for p in LoadImageFromFile.skipped_files
        if p.startswith(str(tmp_path))
    }
    assert skipped == {'0001.png', '0002.png'}


def test_a_code_running_checkpoint_is_refused_by_the_tools(tmp_path):
    """The test tool loads checkpoints through MMEngine, with mmofa's
    allowlist: a pickle payload is refused before it runs."""

    class WritesAFile:

        def __reduce__(self):
            return (open, (str(tmp_path / 'pwned.txt'), 'w'))

    model = init_model(W10_CONFIG)
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': model.state_dict(), 'x': WritesAFile()}, evil)
    result = run_tool(
        'tools/test.py',
        'configs/ofa/ofa_mbv3_subnet_8xb256_in1k.py',
        evil,
        '--work-dir',
        tmp_path / 'work',
        check=False)
    assert result.returncode != 0
    assert f"{evil} asks for 'open' from 'io', which mmofa refuses to " \
        'load' in result.stderr
    assert 'weights_only=False' not in result.stderr
    assert not (tmp_path / 'pwned.txt').exists()
