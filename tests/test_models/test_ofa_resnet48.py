"""The elastic ResNet-48 of the CVPR 2022 NAS track 1 (what every family
must do, supernet = export, costs = hook count, formats, codec, search, is
in test_backbone_contract.py)."""
import random

import pytest
import torch
from helpers import REPO, make_batch, perturb_
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from mmofa.apis import init_model
from mmofa.models.task_modules import count_macs_params
from mmofa.models.utils import ofa_init_weights
from mmofa.registry import MODELS
from mmofa.structures import SubnetError
from mmofa.utils import register_all_modules

CODE = '348311131310000332323230014143424241434543757770000'
CONFIG_DIR = REPO / 'configs' / 'ofa_resnet'
# Narrow stage widths whose ratios give several widths each.
NARROW = dict(base_channels=[32, 48, 64, 96])


def narrow_model_cfg(cfg: dict, num_classes: int = 4) -> dict:
    """``cfg``'s model with narrow widths and a small head."""
    arch = cfg['architecture']
    arch['backbone'].update(NARROW)
    arch['head'].update(num_classes=num_classes, in_channels=96, topk=(1, ))
    arch['data_preprocessor']['num_classes'] = num_classes
    return cfg


def narrow_supernet(seed: int = 0):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(CONFIG_DIR / 'ofa_resnet48_supernet.py'))
    torch.manual_seed(seed)
    model = MODELS.build(narrow_model_cfg(cfg.model.to_dict()))
    ofa_init_weights(model)
    return perturb_(model, seed).eval()


def test_arch_code_in_and_out_through_ofa():
    model = narrow_supernet()
    subnet = model.set_subnet(CODE)
    assert model.dump_subnet(fmt='arch_code') == CODE
    assert model.dump_subnet(fmt='track_arch') == '1' + CODE
    mutables = model.mutator.current_choices
    assert mutables['layer1.depth'] == 3 and mutables['layer3.depth'] == 8
    assert mutables['layer1.out_ratio'] == 1.0
    assert mutables['layer4.out_ratio'] == 0.7
    assert mutables['layer4.2.mid_ratio'] == 0.7
    assert model.current_subnet() == subnet
    assert set(model.mutator.dims) == {'channel_ratio', 'depth'}
    # 4 depths, 4 output ratios, 23 middle ratios.
    assert len(model.mutator.groups) == 31
    for _ in range(20):
        sampled = model.sample_subnet('random', random.Random(_))
        code = model.dump_subnet(fmt='arch_code')
        assert model.backbone.parse_subnet(code) == sampled
    with pytest.raises(SubnetError, match='has 50 digits; expected 51'):
        model.set_subnet(CODE[:-1])


def test_full_size_network_of_the_track():
    model = init_model(CONFIG_DIR / 'ofa_resnet48_supernet.py')
    assert sum(p.numel() for p in model.parameters()) == 34043688
    assert model.estimate_resources(
        dict(
            depth=[5, 5, 8, 5],
            out_ratio=[1.0] * 4,
            mid_ratio=[[1.0] * 5, [1.0] * 5, [1.0] * 8, [1.0] * 5])) == dict(
                macs=5282238464, params=34043688)
    model.set_subnet(CODE)
    static = model.export_subnet()
    assert static.head.fc.in_features == 360  # 512 x 0.7
    macs, params = count_macs_params(static, (1, 3, 64, 64),
                                     lambda m, x: m(x, mode='tensor'))
    assert model.estimate_resources(resolution=64) == dict(
        macs=macs, params=params)
    images = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(
            static(images, mode='tensor'),
            model(images, mode='tensor'),
            atol=1e-5)


@pytest.mark.parametrize('expand_ratio_stage', [0, 3])
def test_channel_sorting_keeps_the_largest_network(expand_ratio_stage):
    # float64: the sorted network sums in another order, which float32
    # rounding (logits ~20) would show at ~1e-5.
    model = narrow_supernet().double()
    model.sample_subnet('max')
    images = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    block = model.backbone.layer3[0]
    before = block.conv1.conv.weight.clone()
    with torch.no_grad():
        expected = model(images, mode='tensor')
        model.reorganize_channels(expand_ratio_stage)
        assert (model(images, mode='tensor') - expected).abs().max() <= 1e-5
    importance = block.conv2.conv.weight.abs().sum(dim=(0, 2, 3))
    after = block.conv1.conv.weight
    # Rows are a permutation of the old ones.
    order = [
        next(i for i in range(len(before)) if torch.equal(before[i], row))
        for row in after
    ]
    assert sorted(order) == list(range(len(before)))
    if expand_ratio_stage == 0:
        assert importance.tolist() == sorted(importance.tolist(), reverse=True)
    else:
        # No channel crosses the widths of the 4 largest ratios (64: 64,
        # 64, 64, 56): the first 56 stay the first 56.
        assert sorted(order[:56]) == list(range(56))
        assert order != list(range(len(before)))


def test_bad_supernet_arguments():
    register_all_modules(init_default_scope=False)
    with pytest.raises(
            ValueError, match='base_channels has 2 stages, ResNet-48 has 4'):
        MODELS.build(dict(type='mmofa.OFAResNet48', base_channels=[64, 128]))
    with pytest.raises(ValueError, match='depths per stage needs 4 lists'):
        MODELS.build(dict(type='mmofa.OFAResNet48', depths=[[2, 3], [2, 3]]))
    with pytest.raises(ValueError, match='depths must be 1-9'):
        MODELS.build(dict(type='mmofa.OFAResNet48', depths=[[2, 10]] * 4))


STAGES = [
    'resnet48_ps_teacher_8xb64', 'resnet48_ps_depth_phase1_8xb64',
    'resnet48_ps_depth_phase2_8xb64', 'resnet48_ps_expand_phase1_8xb64',
    'resnet48_ps_expand_phase2_8xb64'
]


def test_stage_configs_train_and_sample_within_their_constraints(tmp_path):
    """Each stage config, narrowed: load the previous stage's weights, apply
    its progressive-shrinking stage, train 2 steps (distilled from the
    teacher's weights after the teacher stage); every sampled subnet obeys
    the stage's constraints."""
    register_all_modules(init_default_scope=False)
    previous, teacher = None, None
    expected = {
        'teacher': (1, {(5, 5, 8, 5)}, {1.0}),
        'depth_phase1': (2, {4, 5, 6, 7, 8}, {1.0}),
        'depth_phase2': (2, set(range(2, 9)), {1.0}),
        'expand_phase1': (4, set(range(2, 9)), {1.0, 0.95, 0.9, 0.85}),
        'expand_phase2':
        (4, set(range(2, 9)), {1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7}),
    }
    for name in STAGES:
        cfg = Config.fromfile(str(CONFIG_DIR / f'{name}.py'))
        model_cfg = narrow_model_cfg(cfg.model.to_dict())
        if model_cfg.get('distillation'):
            model_cfg['distillation']['teacher']['checkpoint'] = str(teacher)
        torch.manual_seed(0)
        model = MODELS.build(model_cfg)
        ofa_init_weights(model)
        if cfg.get('load_from'):
            state = torch.load(previous, weights_only=True)
            model.load_state_dict(state)
        (stage, ) = cfg.custom_hooks[0]['stages']
        model.mutator.set_constraints(stage.get('constraints', {}))
        model.num_subnets = stage.get('num_subnets', 1)
        if stage.get('reorganize') is not None:
            model.reorganize_channels(stage['reorganize'])
        assert (model.teacher is None) == (name == STAGES[0])

        sampled = []
        sample = model.sample_subnet

        def recording_sample(*args, **kwargs):
            sampled.append(sample(*args, **kwargs))
            return sampled[-1]

        model.sample_subnet = recording_sample
        model.train()
        optimizer = OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9))
        weights = model.backbone.layer1[0].conv1.conv.weight.clone()
        for step in range(2):
            log = model.train_step(
                make_batch(4, 32, num_classes=4, seed=step), optimizer)
            assert torch.isfinite(log['loss'])
        assert ('subnet0/loss_kd' in log) == (name != STAGES[0])
        assert not torch.equal(weights,
                               model.backbone.layer1[0].conv1.conv.weight)

        num_subnets, depths, ratios = expected[
            name[len('resnet48_ps_'):-len('_8xb64')]]
        assert len(sampled) == 2 * num_subnets
        for subnet in sampled:
            if name == STAGES[0]:
                assert subnet.depth in depths
            else:
                assert set(subnet.depth) <= depths
                # stages 1, 2, 4 take at most 5 blocks
                assert max(subnet.depth[:2] + subnet.depth[3:]) <= 5
            used = set(subnet.out_ratio).union(*subnet.mid_ratio)
            assert used <= ratios
        previous = tmp_path / f'{name}.pth'
        torch.save(model.state_dict(), previous)
        if name == STAGES[0]:
            teacher = tmp_path / 'teacher.pth'
            torch.save({'state_dict': model.state_dict()}, teacher)
