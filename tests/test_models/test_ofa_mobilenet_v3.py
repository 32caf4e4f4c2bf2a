import copy
import random

import pytest
import torch
from helpers import (REFERENCE, W10_CONFIG, W12_CONFIG, build_supernet,
                     perturb_, random_subnets)

from mmofa.apis import init_model
from mmofa.models.dynamic_ops import ElasticDepthwiseConv2d
from mmofa.models.task_modules import count_macs_params
from mmofa.structures import MobileNetV3Subnet
from mmofa.utils.checkpoint import CheckpointError


def read_keys(name):
    """``{key: shape}`` of a reference key dump (masks left out)."""
    keys = {}
    for line in (REFERENCE / name).read_text().splitlines():
        key, shape = line.split('\t')[:2]
        if not key.endswith('mutable_channels.mask'):
            keys[key] = tuple(eval(shape))
    return keys


@pytest.fixture(scope='module')
def supernet():
    return build_supernet(W10_CONFIG, seed=0)


def test_static_export_equals_supernet_on_20_subnets(supernet):
    transforms = [
        m for m in supernet.modules() if isinstance(m, ElasticDepthwiseConv2d)
    ]
    assert all(not torch.equal(m.trans_matrix_7to5, torch.eye(25))
               for m in transforms)
    torch.manual_seed(1)
    for resolution in (224, 160):
        x = torch.randn(2, 3, resolution, resolution)
        for subnet in random_subnets(supernet, 20, seed=resolution):
            static = supernet.export_subnet()
            with torch.no_grad():
                expected = supernet(x)
                actual = static(x, mode='tensor')
            assert expected.shape == (2, 1000)
            assert (expected - actual).abs().max() <= 1e-5, subnet
            # Plain modules only: no mutables, no transform matrices.
            names = [n for n, _ in static.named_parameters()]
            assert not [n for n in names if 'matrix' in n]
            assert not [
                m for m in static.modules() if 'Elastic' in type(m).__name__
                or 'Mutable' in type(m).__name__
            ]


def test_static_export_equals_supernet_in_train_mode(supernet):
    model = copy.deepcopy(supernet).train()
    x = torch.randn(4, 3, 128, 128)
    for subnet in random_subnets(model, 3, seed=7):
        static = model.export_subnet()
        assert static.training
        torch.manual_seed(0)  # the same dropout mask for both
        expected = model(x)
        torch.manual_seed(0)
        assert torch.allclose(expected, static(x), atol=1e-5, rtol=0)


def test_exported_model_owns_its_tensors(supernet):
    model = copy.deepcopy(supernet)
    model.sample_subnet('max')
    static = model.export_subnet()
    supernet_storages = {
        t.untyped_storage().data_ptr()
        for t in list(model.parameters()) + list(model.buffers())
    }
    for name, tensor in list(static.named_parameters()) + list(
            static.named_buffers()):
        assert not tensor.is_meta, name
        assert tensor.untyped_storage().data_ptr() not in supernet_storages, \
            name
    # The data preprocessor's buffers (not in any state dict) are copied.
    for name in ('mean', 'std'):
        assert torch.equal(
            static.data_preprocessor.get_buffer(name),
            model.architecture.data_preprocessor.get_buffer(name))
    assert all(p.requires_grad for p in static.parameters())
    before = model(torch.ones(1, 3, 64, 64))
    with torch.no_grad():
        for parameter in static.parameters():
            parameter.add_(1.0)
    assert torch.equal(before, model(torch.ones(1, 3, 64, 64)))


def test_state_dict_layout_is_mmrazor_layout(supernet):
    ours = {k: tuple(v.shape) for k, v in supernet.state_dict().items()}
    assert ours == read_keys('mmrazor_ofa_supernet_keys.txt')


def test_loads_an_mmrazor_checkpoint():
    source = build_supernet(W10_CONFIG, seed=3)
    mmrazor = dict(source.state_dict())
    mmrazor['architecture.backbone.first_mutable_channels.mask'] = \
        torch.ones(16)
    mmrazor['architecture.backbone.last_mutable_channels.mask'] = \
        torch.ones(1280)
    target = init_model(W10_CONFIG)
    target.load_state_dict(mmrazor, strict=True)
    for key, value in source.state_dict().items():
        assert torch.equal(value, target.state_dict()[key]), key

    mmrazor['architecture.backbone.last_mutable_channels.mask'] = \
        torch.ones(1536)
    with pytest.raises(
            RuntimeError, match='has 1536 channels, this '
            'supernet has 1280'):
        target.load_state_dict(mmrazor, strict=True)


def test_exported_layout_is_mmrazor_static_layout(supernet):
    supernet.set_subnet(REFERENCE / 'mmrazor_OFA_SUBNET_NOTE8_LAT22.yaml')
    static = supernet.export_subnet()
    ours = {k: tuple(v.shape) for k, v in static.state_dict().items()}
    assert ours == read_keys('mmrazor_subnet_LAT22_static_keys.txt')


@pytest.mark.parametrize('stage', [0, 1])
def test_channel_reorganisation_keeps_outputs(stage):
    model = build_supernet(W10_CONFIG, seed=stage)
    x = torch.randn(2, 3, 160, 160)
    model.sample_subnet('max')
    before = model(x).detach()
    weight = model.backbone.layer4[0].linear_conv.conv.weight.clone()
    model.reorganize_channels(expand_ratio_stage=stage)
    assert not torch.equal(weight,
                           model.backbone.layer4[0].linear_conv.conv.weight)
    model.sample_subnet('max')
    assert (model(x) - before).abs().max() <= 1e-5
    for _ in random_subnets(model, 3, seed=stage):
        with torch.no_grad():
            diff = (model(x) - model.export_subnet()(x)).abs().max()
        assert diff <= 1e-5


def test_phase_1_sorting_keeps_expand_groups():
    """Stage 1 keeps the channels past the e=4 width where they are."""
    model = build_supernet(W10_CONFIG, seed=5)
    block = model.backbone.layer3[1]  # 40 -> e=4: 160, e=6: 240
    importance = block.linear_conv.conv.weight.abs().sum(dim=(0, 2, 3))
    block.reorganize_channels(expand_ratio_stage=1)
    after = block.linear_conv.conv.weight.abs().sum(dim=(0, 2, 3))
    # The same channels stay past 160 (sums agree up to summation order).
    torch.testing.assert_close(after[160:].sort()[0],
                               importance[160:].sort()[0])
    # Sorted within the e=4 width; past it the float32 offset (-2e5, as
    # upstream) only keeps the group together.
    assert torch.all(after[:160][:-1] >= after[:160][1:])


def test_flops_and_params_agree_with_hook_count(supernet):
    generator = random.Random(0)
    for subnet in random_subnets(supernet, 6, seed=11):
        static = supernet.export_subnet()
        for resolution in (224, 160, generator.randrange(97, 257)):
            macs, params = count_macs_params(static,
                                             (1, 3, resolution, resolution))
            estimate = supernet.estimate_resources(subnet, resolution)
            assert estimate == dict(
                macs=macs, params=params), (subnet, resolution)


def test_official_flops_figures():
    model = init_model(W10_CONFIG)
    assert sum(p.numel() for p in model.parameters()) == 7678880  # 7.68 M
    largest = model.estimate_resources(dict(ks=7, e=6, d=4))
    smallest = model.estimate_resources(dict(ks=3, e=3, d=2))
    assert round(largest['macs'] / 1e6, 1) == 566.2
    assert round(smallest['macs'] / 1e6, 1) == 121.3
    w12 = init_model(W12_CONFIG)
    assert round(sum(p.numel() for p in w12.parameters()) / 1e6, 2) == 10.72


def test_search_space_and_subnet_round_trip(supernet):
    groups = supernet.mutator.groups
    assert len(groups) == 45  # 20 kernel sizes, 20 expand ratios, 5 depths
    subnet = supernet.set_subnet(dict(ks=5, e=4, d=3, image_size=192))
    assert supernet.current_subnet() == subnet
    assert subnet == MobileNetV3Subnet((3, ) * 5, ((5, ) * 3, ) * 5,
                                       ((4, ) * 3, ) * 5, 192)
    assert supernet.dump_subnet(fmt='arch_dict')['image_size'] == 192


def test_sampling_agrees_between_models_with_one_seed():
    first, second = init_model(W10_CONFIG), init_model(W10_CONFIG)
    for seed in range(3):
        assert first.sample_subnet('random', seed) == second.sample_subnet(
            'random', seed)
    first.mutator.set_constraints({'kernel_size': [7], 'depth': [4]})
    subnet = first.sample_subnet('random', 0)
    assert set(subnet.depth) == {4}
    assert {k for ks in subnet.kernel_size for k in ks} == {7}


def test_per_stage_candidates_and_fixed_kernels():
    cfg = dict(
        type='mmofa.OFA',
        architecture=dict(
            _scope_='mmpretrain',
            type='ImageClassifier',
            backbone=dict(
                type='mmofa.OFAMobileNetV3',
                kernel_sizes=[[3], [5], [3], [3], [5]],
                expand_ratios=[3, 4, 6],
                depths=[2, 3, 4]),
            head=dict(
                type='mmofa.DropoutLinearClsHead',
                num_classes=10,
                in_channels=1280)))
    model = perturb_(init_model(dict(model=cfg)))
    assert not [n for n, _ in model.named_parameters() if 'matrix' in n]
    assert model.search_space.kernel_sizes[1] == (5, )
    for _ in random_subnets(model, 3):
        x = torch.randn(1, 3, 96, 96)
        with torch.no_grad():
            assert torch.allclose(
                model(x), model.export_subnet()(x), atol=1e-5, rtol=0)


def test_wrong_checkpoint_is_named(tmp_path):
    model = init_model(W12_CONFIG)
    path = tmp_path / 'w12.pth'
    torch.save({'state_dict': model.state_dict()}, path)
    with pytest.raises(
            CheckpointError,
            match='mismatched: '
            'architecture.backbone.first_conv.conv.weight: '
            r'checkpoint \(24, 3, 3, 3\) vs model \(16, 3, 3, 3\)'):
        init_model(W10_CONFIG, path)


def test_sampling_agrees_across_processes():
    """Another interpreter (other hash seed) draws the same subnets."""
    import os
    import subprocess
    import sys
    code = ('from mmofa.apis import init_model; '
            f'm = init_model({str(W10_CONFIG)!r}); '
            'print([m.sample_subnet("random", s) for s in range(3)])')
    env = dict(os.environ, PYTHONHASHSEED='12345')
    out = subprocess.run([sys.executable, '-c', code],
                         env=env,
                         check=True,
                         capture_output=True,
                         text=True).stdout.strip()
    model = init_model(W10_CONFIG)
    assert out == str([model.sample_subnet('random', s) for s in range(3)])
