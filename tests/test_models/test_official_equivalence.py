"""mmofa against the official Once-for-All code (``pip install ofa``)."""
import json

import pytest
import torch
from helpers import (CONFIGS, REFERENCE, W10_CONFIG, carry_official_weights,
                     official_supernet, random_subnets)
from ofa.nas.efficiency_predictor import Mbv3FLOPsModel

from mmofa.apis import init_model
from mmofa.utils.official_checkpoint import (convert_official_mbv3,
                                             official_mbv3_key)


@pytest.fixture(scope='module', params=[1.0, 1.2], ids=['w1.0', 'w1.2'])
def pair(request):
    official = official_supernet(request.param)
    return official, carry_official_weights(official, request.param)


def test_logits_and_extracted_subnets_agree(pair):
    official, model = pair
    torch.manual_seed(0)
    for i, subnet in enumerate(random_subnets(model, 8, seed=1)):
        resolution = (224, 160)[i % 2]
        arch = model.dump_subnet(fmt='arch_dict')
        official.set_active_subnet(ks=arch['ks'], e=arch['e'], d=arch['d'])
        x = torch.randn(2, 3, resolution, resolution)
        with torch.no_grad():
            expected = official(x)
            assert (model(x) - expected).abs().max() <= 1e-5, subnet
            extracted = official.get_active_subnet(preserve_weight=True)
            exported = model.export_subnet()
            official_static = extracted.eval()(x)
            assert (official_static - expected).abs().max() <= 1e-5
            assert (exported(x) - official_static).abs().max() <= 1e-5


def test_flops_agree_with_official_flops_model(pair):
    official, model = pair
    flops_model = Mbv3FLOPsModel(official)
    for i, _ in enumerate(random_subnets(model, 10, seed=2)):
        resolution = 128 + 4 * (7 * i % 25)
        arch = model.dump_subnet(fmt='arch_dict')
        expected = flops_model.get_efficiency({
            **arch, 'image_size': resolution
        })
        ours = model.estimate_resources(resolution=resolution)['macs']
        assert ours / 1e6 == pytest.approx(expected, abs=1e-9), arch


@pytest.mark.parametrize('stage', [0, 1])
def test_channel_reorganisation_matches_official(stage):
    official = official_supernet(1.0, seed=stage)
    model = carry_official_weights(official, 1.0)
    official.re_organize_middle_weights(expand_ratio_stage=stage)
    model.reorganize_channels(expand_ratio_stage=stage)
    expected = convert_official_mbv3(official.state_dict(), [4] * 5)
    ours = model.state_dict()
    for key, value in expected.items():
        assert torch.equal(ours[f'architecture.{key}'], value), key


def _key_dump(name):
    lines = (REFERENCE / name).read_text().splitlines()
    return [(line.split('\t')[0], tuple(eval(line.split('\t')[1])))
            for line in lines]


@pytest.mark.parametrize('name,width', [('ofa_mbv3_keys.txt', 1.0),
                                        ('ofa_mbv3_keys_w1.2.txt', 1.2)])
def test_official_key_dumps_map_onto_the_supernet(name, width):
    ours = {
        k[len('architecture.'):]: tuple(v.shape)
        for k, v in init_model(CONFIGS[width]).state_dict().items()
    }
    mapped = {official_mbv3_key(k, [4] * 5): s for k, s in _key_dump(name)}
    assert mapped == ours


def test_official_static_key_dump_maps_onto_the_export():
    arch = json.loads((REFERENCE / 'example_arch.json').read_text())
    model = init_model(W10_CONFIG)
    model.set_subnet(arch)
    ours = {
        k: tuple(v.shape)
        for k, v in model.export_subnet().state_dict().items()
    }
    mapped = {
        official_mbv3_key(k, arch['d']): s
        for k, s in _key_dump('static_subnet_keys.txt')
    }
    assert mapped == ours


def test_both_official_key_styles_and_bad_keys():
    depths = [4] * 5
    assert official_mbv3_key(
        'blocks.5.mobile_inverted_conv.depth_conv.conv.7to5_matrix',
        depths) == 'backbone.layer3.0.depthwise_conv.conv.trans_matrix_7to5'
    assert official_mbv3_key('blocks.5.conv.depth_conv.bn.bn.running_var',
                             depths) == \
        'backbone.layer3.0.depthwise_conv.bn.running_var'
    assert official_mbv3_key('blocks.20.conv.depth_conv.se.fc.expand.bias',
                             depths) == 'backbone.layer6.3.se.conv2.conv.bias'
    with pytest.raises(KeyError, match='block 21 does not exist'):
        official_mbv3_key('blocks.21.conv.point_linear.conv.weight', depths)
    with pytest.raises(KeyError, match='not a key of the official'):
        official_mbv3_key('head.fc.weight', depths)
    with pytest.raises(KeyError, match="unknown block parameter 'foo'"):
        convert_official_mbv3({'blocks.1.conv.foo': torch.zeros(1)}, depths)
