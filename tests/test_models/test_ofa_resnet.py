"""OFAResNet against the official OFAResNets (``pip install ofa``)."""
import pytest
import torch
from helpers import (REFERENCE, RESNET50_CONFIG, carry_official_resnet_weights,
                     make_batch, official_resnet, perturb_, random_subnets,
                     tiny_resnet_cfg)
from mmengine.optim import OptimWrapper
from ofa.nas.efficiency_predictor import ResNet50FLOPsModel

from mmofa.apis import init_model
from mmofa.models.task_modules import count_macs_params
from mmofa.structures import ResNetSubnet, SubnetError
from mmofa.utils.official_checkpoint import (convert_official_resnet,
                                             official_resnet_key)

NUM_CLASSES = 10


@pytest.fixture(scope='module')
def pair():
    official = official_resnet(NUM_CLASSES)
    return official, carry_official_resnet_weights(official, NUM_CLASSES)


def set_official(official, model):
    arch = model.dump_subnet(fmt='arch_dict')
    official.set_active_subnet(d=arch['d'], e=arch['e'], w=arch['w'])
    return arch


def test_logits_and_extracted_subnets_agree(pair):
    official, model = pair
    torch.manual_seed(0)
    seen = set()
    for subnet in random_subnets(model, 10, seed=1):
        set_official(official, model)
        seen.add(subnet.stem_depth)
        with torch.no_grad():
            extracted = official.get_active_subnet(preserve_weight=True).eval()
            exported = model.export_subnet()
            for size in (48, 64):
                x = torch.randn(1, 3, size, size)
                expected = official(x)
                assert (model(x) - expected).abs().max() <= 1e-5, subnet
                assert (extracted(x) - expected).abs().max() <= 1e-5
                assert (exported(x) - expected).abs().max() <= 1e-5, subnet
    assert seen == {0, 2}  # the stem's residual conv skipped and run


def test_max_and_min_subnets_agree(pair):
    official, model = pair
    x = torch.randn(1, 3, 64, 64)
    for mode, settings in (('max', dict(d=2, e=0.35,
                                        w=2)), ('min', dict(d=0, e=0.2, w=0))):
        model.sample_subnet(mode)
        official.set_active_subnet(**settings)
        assert model.dump_subnet(fmt='arch_dict') == {
            key: [value] * length
            for (key, value), length in zip(settings.items(), (5, 18, 6))
        }
        with torch.no_grad():
            assert (model(x) - official(x)).abs().max() <= 1e-5


def test_macs_and_params_agree_with_official_and_hook_counts(pair):
    official, model = pair
    flops_model = ResNet50FLOPsModel(official)
    for i, subnet in enumerate(random_subnets(model, 6, seed=2)):
        size = (64, 160, 224)[i % 3]
        arch = set_official(official, model)
        ours = model.estimate_resources(resolution=size)
        assert ours['macs'] / 1e6 == pytest.approx(
            flops_model.get_efficiency(dict(arch, image_size=size)), abs=1e-9)
        extracted = official.get_active_subnet(preserve_weight=True)
        assert count_macs_params(extracted,
                                 (1, 3, size, size)) == (ours['macs'],
                                                         ours['params'])
        # The exported backbone and a classifier on its active width.
        backbone = model.export_subnet().backbone
        macs, params = count_macs_params(backbone, (1, 3, size, size))
        width = model.backbone.active_out_channels
        classifier = width * NUM_CLASSES
        assert (macs + classifier,
                params + classifier + NUM_CLASSES) == (ours['macs'],
                                                       ours['params'])


def test_exported_classifier_has_the_active_width(pair):
    _, model = pair
    model.set_subnet(dict(d=1, e=0.25, w=0))
    exported = model.export_subnet()
    assert exported.head.fc.weight.shape == (NUM_CLASSES, 1328)
    assert count_macs_params(
        exported)[1] == model.estimate_resources()['params']


def test_official_figures():
    """ofa_resnet50's largest and smallest subnets at 224 px, 1000 classes
    (the official FLOPs model gives the same, checked above)."""
    model = init_model(RESNET50_CONFIG)
    assert model.estimate_resources(dict(d=2, e=0.35, w=2)) == dict(
        macs=7_491_643_904, params=48_105_992)
    assert model.estimate_resources(dict(d=0, e=0.2, w=0)) == dict(
        macs=962_192_128, params=6_539_280)
    assert sum(p.numel() for p in model.parameters()) == 48_105_992


@pytest.mark.parametrize('stage', [0, 1])
def test_channel_reorganisation_matches_official(stage):
    official = official_resnet(NUM_CLASSES, seed=stage + 3)
    model = carry_official_resnet_weights(official, NUM_CLASSES)
    model.sample_subnet('max')
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = model(x)
    official.re_organize_middle_weights(expand_ratio_stage=stage)
    model.reorganize_channels(expand_ratio_stage=stage)
    ours = model.state_dict()
    for key, value in convert_official_resnet(official.state_dict()).items():
        assert torch.equal(ours[f'architecture.{key}'], value), key
    with torch.no_grad():
        assert (model(x) - before).abs().max() <= 1e-5


def test_official_key_dump_maps_onto_the_supernet():
    ours = {
        k[len('architecture.'):]: tuple(v.shape)
        for k, v in init_model(RESNET50_CONFIG).state_dict().items()
    }
    mapped = {}
    for line in (REFERENCE / 'ofa_resnet50_keys.txt').read_text().splitlines():
        key, shape = line.split('\t')[:2]
        mapped[official_resnet_key(key, [4, 4, 6, 4])] = eval(shape)
    assert mapped == ours


def test_official_static_keys_and_bad_keys():
    blocks = [4, 4, 6, 4]
    assert official_resnet_key('input_stem.1.conv.conv.conv.weight',
                               blocks) == 'backbone.stem.conv2.conv.weight'
    # An extracted static network: no doubled names; without the residual
    # conv the last stem conv is input_stem.1.
    assert official_resnet_key('input_stem.1.conv.bn.running_mean',
                               blocks) == 'backbone.stem.conv2.bn.running_mean'
    assert official_resnet_key('input_stem.1.bn.weight', [2, 2, 4, 2],
                               False) == 'backbone.stem.conv3.bn.weight'
    assert official_resnet_key('blocks.8.downsample.conv.conv.weight',
                               blocks) == \
        'backbone.layer3.0.downsample.conv.weight'
    assert official_resnet_key('classifier.linear.linear.bias',
                               blocks) == 'head.fc.bias'
    with pytest.raises(KeyError, match='block 18 does not exist'):
        official_resnet_key('blocks.18.conv1.conv.weight', blocks)
    with pytest.raises(KeyError, match='input stem layer 3 does not exist'):
        official_resnet_key('input_stem.3.conv.weight', blocks)
    with pytest.raises(
            KeyError,
            match=r'residual stem conv has keys '
            r'input_stem\.1\.conv\.\*'):
        official_resnet_key('input_stem.1.bn.weight', blocks)
    with pytest.raises(KeyError, match='not a key of the official OFA ResNet'):
        official_resnet_key('blocks.0.conv4.conv.weight', blocks)
    with pytest.raises(KeyError, match='both map to'):
        convert_official_resnet({
            'blocks.0.conv1.conv.conv.weight':
            torch.zeros(1),
            'blocks.0.conv1.conv.weight':
            torch.zeros(1)
        })


# ----------------------------------------------------------- subnets
@pytest.fixture(scope='module')
def model():
    return init_model(RESNET50_CONFIG)


def test_subnet_formats_round_trip(model, tmp_path):
    arch = dict(
        d=[1, 2, 0, 1, 2],
        e=[0.25, 0.35, 0.2, 0.2] * 4 + [0.35, 0.25],
        w=[0, 1, 2, 1, 0, 2],
        image_size=160)
    subnet = model.set_subnet(arch)
    assert subnet == ResNetSubnet(
        depth=(0, 2, 0, 1, 2),  # the stem's 1 skips its residual conv: 0
        expand_ratio=((0.25, 0.35, 0.2, 0.2), (0.25, 0.35),
                      (0.25, 0.35, 0.2, 0.2, 0.25), (0.2, 0.2, 0.35, 0.25)),
        width_mult=(0.65, 0.8, 1.0, 0.8, 0.65, 1.0),
        resolution=160)
    assert model.current_subnet() == subnet
    assert model.set_subnet(dict(arch, d=[0, 2, 0, 1, 2])) == subnet
    dumped = model.dump_subnet(fmt='arch_dict')
    assert dumped['d'] == [0, 2, 0, 1, 2] and dumped['w'] == arch['w']
    assert dumped['e'][4:8] == [0.25, 0.35, 0.2, 0.2]  # 2 blocks, 2 padded
    assert model.backbone.parse_subnet(dumped) == subnet
    from mmofa.structures import write_subnet_file
    path = write_subnet_file(
        model.dump_subnet(fmt='mmofa'), tmp_path / 's.yaml')
    assert model.set_subnet(str(path)) == subnet
    exported = model.export_subnet_config()['backbone']
    assert exported['stem_residual'] is False
    assert exported['stem_channels'] == [24, 48]
    assert exported['stage_channels'] == [256, 408, 664, 2048]
    assert exported['mid_channels'][3] == [408, 408, 720, 512]


@pytest.mark.parametrize('data,pattern', [
    (dict(d=[2] * 4, e=0.2, w=0), r"bad.yaml: d has 4 entries, the supernet "
     r"needs 5: \[2, 2, 2, 2\]"),
    (dict(d=3, e=0.2, w=0), r"'d'\[0\] = 3 is not allowed; allowed depths: "
     r'\[0, 1, 2\]'),
    (dict(d=2, e=0.3, w=0), r"'e'\[0\] \(stage 0, block 0\) = 0.3 is not "
     r'allowed; allowed expand ratios: \[0.2, 0.25, 0.35\]'),
    (dict(d=2, e=0.2, w=3), r"'w'\[0\] = 3 is not allowed; allowed indices "
     r'into the width multipliers \[0.65, 0.8, 1.0\]: \[0, 1, 2\]'),
    (dict(d=2, e=0.2, w=0.8), r"'w'\[0\] = 0.8 must be an integer"),
    (dict(d=2, e=0.2), r"missing keys \['w'\]"),
    (dict(d=2, e=0.2, w=0, ks=3), r"unknown keys \['ks'\]"),
    (dict(depth=[2] * 5, expand_ratio=[[0.2] * 4] * 4, width_mult=[1.0] * 6),
     r'expand_ratio\[2\] = .* must be a list of 6 values \(one per active '
     r'block: base depth 4 \+ depth\[3\] = 2\)'),
    (dict(depth=[2] * 5, expand_ratio=[[0.2] * 4] * 4,
          width_mult=[1.2] * 6), r'width_mult\[0\] = 1.2 is not allowed'),
    (dict(ks=[3] * 20, e=[3] * 20, d=[2] * 5), r"unknown keys \['ks'\]"),
    (dict(kernel_size=3), 'not an OFA ResNet subnet'),
])
def test_bad_subnets_name_key_value_and_allowed(model, data, pattern):
    with pytest.raises(SubnetError, match=pattern):
        model.set_subnet(data, source='bad.yaml')


def test_mutables_and_constraints(model):
    groups = model.mutator.groups
    assert len(groups) == 5 + 18 + 6
    assert model.mutator.dims == ('depth', 'width_mult', 'expand_ratio')
    assert 'stem.conv1.width_mult' in groups and 'layer3.5.expand_ratio' in \
        groups
    model.mutator.set_constraints(dict(depth=[2], width_mult=[1.0]))
    for subnet in random_subnets(model, 5):
        assert subnet.depth == (2, ) * 5 and set(subnet.width_mult) == {1.0}
    model.mutator.clear_constraints()


def test_stem_depth_drawn_like_the_official_sampler(model):
    """The official sampler runs the stem's residual conv half the time:
    it draws the largest or the smallest depth of its list (also under a
    depth phase's list, such as [1, 2])."""
    mutator = model.mutator
    for allowed, extremes in (None, (0, 2)), ([1, 2], (1, 2)):
        if allowed:
            mutator.set_constraints(dict(depth=allowed))
        assert mutator.allowed_choices('stem.depth') == extremes
        draws = [
            mutator.sample_choices(generator=seed)['stem.depth']
            for seed in range(2000)
        ]
        assert set(draws) == set(extremes)
        assert 0.45 < draws.count(extremes[-1]) / len(draws) < 0.55
        # every depth stays settable and the other stages draw all values
        assert mutator.allowed_choices('layer1.depth') == tuple(
            allowed or (0, 1, 2))
        mutator.clear_constraints()
    model.mutator.set_choices({'stem.depth': 1})
    assert not model.backbone.stem.residual
    model.mutator.set_choices(model.mutator.sample_choices(mode='max'))


def test_no_mmrazor_format(model):
    with pytest.raises(
            ValueError,
            match=r"unknown subnet format 'mmrazor'; allowed: \['mmofa', "
            r"'arch_dict'\] \(subnets of an OFA ResNet\)"):
        model.dump_subnet(fmt='mmrazor')


# ---------------------------------------------------------- training
def test_ofa_trains_the_resnet_supernet():
    """Two training steps of 2 subnets each on tiny data; every drawn
    subnet is in the space and the weights change."""
    model = perturb_(
        init_model(
            dict(model=tiny_resnet_cfg(num_subnets=2,
                                       resolutions=[32, 40])))).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    drawn = []
    sample = model.sample_subnet
    model.sample_subnet = lambda *a: drawn.append(sample(*a)) or drawn[-1]
    for step in range(2):
        log_vars = model.train_step(make_batch(4, 48, seed=step), wrapper)
        assert torch.isfinite(log_vars['loss'])
    assert len(drawn) == 4 and len(set(drawn)) > 1
    for subnet in drawn:
        assert model.backbone.parse_subnet(subnet) == subnet
    changed = [
        k for k, v in model.state_dict().items()
        if v.dtype.is_floating_point and not torch.equal(v, before[k])
    ]
    assert any('layer4' in k for k in changed) and any('head.fc' in k
                                                       for k in changed)
    model.eval()
    for subnet in random_subnets(model, 3, seed=4):
        x = torch.randn(2, 3, 40, 40)
        with torch.no_grad():
            assert (model(x) -
                    model.export_subnet()(x)).abs().max() <= 1e-5, subnet


def test_elastic_classifier_head():
    from mmofa.models.architectures.heads import DropoutLinearClsHead
    head = DropoutLinearClsHead(
        num_classes=3, in_channels=8, elastic_in_channels=True)
    features = torch.randn(2, 5)
    weight, bias = head.fc.weight, head.fc.bias
    assert torch.equal(head((features, )), features @ weight[:, :5].t() + bias)
    state = head.export_state_dict(5)
    assert torch.equal(state['fc.weight'], weight[:, :5])
    assert torch.equal(state['fc.bias'], bias)
    plain = DropoutLinearClsHead(num_classes=3, in_channels=8)
    assert type(plain.fc) is torch.nn.Linear
    assert plain.export_state_dict(8).keys() == {'fc.weight', 'fc.bias'}
    with pytest.raises(
            ValueError,
            match='takes 8 features, not 5; set '
            'elastic_in_channels=True'):
        plain.export_state_dict(5)
