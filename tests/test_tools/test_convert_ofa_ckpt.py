"""tools/convert_ofa_ckpt.py against sources built by the official code."""
import json
import random

import pytest
import torch
import yaml
from helpers import (CONFIGS, REFERENCE, RESNET50_CONFIG,
                     carry_official_weights, free_port, make_imagenet_like,
                     official_resnet, official_supernet, run_tool)

from mmofa.apis import init_model
from mmofa.apis.convert import ConversionError, convert_ofa_checkpoint
from mmofa.structures import read_subnet_file


def config_for_width(width):
    return str(CONFIGS[width])


def convert(src, dst, **kwargs):
    return convert_ofa_checkpoint(
        src, dst, config_for_width, resnet_config=RESNET50_CONFIG, **kwargs)


def old_style(state_dict):
    """The released checkpoints' keys: blocks.N.mobile_inverted_conv."""
    renamed = {}
    for key, value in state_dict.items():
        if key.startswith('blocks.'):
            key = key.replace('.conv.', '.mobile_inverted_conv.', 1)
        renamed[key] = value
    return renamed


def assert_same_logits(official, model, resolutions=(224, 160), count=3):
    generator = random.Random(0)
    torch.manual_seed(0)
    for _ in range(count):
        subnet = model.sample_subnet('random', generator)
        arch = model.dump_subnet(subnet, 'arch_dict')
        official.set_active_subnet(ks=arch['ks'], e=arch['e'], d=arch['d'])
        for size in resolutions:
            x = torch.randn(2, 3, size, size)
            with torch.no_grad():
                assert (model(x) - official(x)).abs().max() <= 1e-5


@pytest.mark.parametrize('width', [1.0, 1.2])
@pytest.mark.parametrize('style', ['current_raw', 'released_wrapped'])
def test_official_supernets(tmp_path, width, style):
    official = official_supernet(width, seed=1)
    state = official.state_dict()
    if style == 'released_wrapped':
        state = {'state_dict': old_style(state), 'epoch': 120}
    src = tmp_path / 'ofa.pth'
    torch.save(state, src)
    result = convert(src, tmp_path / 'out.pth')
    assert result['width'] == width and result['kind'] == 'official_mbv3'
    model = init_model(CONFIGS[width], tmp_path / 'out.pth')
    assert_same_logits(official, model)


@pytest.mark.parametrize('source', ['dynamic_single_choice', 'static'])
def test_official_full_network_gets_identity_transforms(tmp_path, source):
    """ofa_D4_E6_K7 (the teacher) has no transform matrices: as a
    supernet its smaller kernels are the centre crops, as the official
    supernet loading the same file computes them."""
    full = official_supernet(
        1.0, seed=2, ks_list=7, expand_ratio_list=6, depth_list=4)
    if source == 'static':
        full = official_supernet(1.0, seed=2).eval()
        full.set_max_net()
        full = full.get_active_subnet()
    src = tmp_path / 'ofa_D4_E6_K7'
    torch.save({'state_dict': full.state_dict()}, src)
    convert(src, tmp_path / 'teacher.pth')
    model = init_model(CONFIGS[1.0], tmp_path / 'teacher.pth')
    matrix = model.backbone.layer3[0].depthwise_conv.conv.trans_matrix_7to5
    assert torch.equal(matrix, torch.eye(25))
    from ofa.imagenet_classification.elastic_nn.networks import OFAMobileNetV3
    reference = OFAMobileNetV3(  # identity matrices, as built
        ks_list=[3, 5, 7],
        expand_ratio_list=[3, 4, 6],
        depth_list=[2, 3, 4])
    reference.load_state_dict(torch.load(src)['state_dict'])
    assert_same_logits(reference.eval(), model, resolutions=(192, ))


def test_official_specialised_subnet(tmp_path):
    official = official_supernet(1.0, seed=3)
    arch = dict(ks=[5, 3, 7, 3] * 5, e=[6, 3, 4, 4] * 5, d=[2, 3, 4, 3, 2])
    official.set_active_subnet(**arch)
    static = official.get_active_subnet(preserve_weight=True).eval()
    zoo = tmp_path / 'note8_lat@22ms_top1@70.4_finetune@25'
    zoo.mkdir()
    (zoo / 'net.config').write_text(json.dumps(static.config))
    (zoo / 'run.config').write_text(json.dumps({'image_size': 176}))
    torch.save({'state_dict': static.state_dict()}, zoo / 'init')

    result = convert(zoo, tmp_path / 'lat22.pth')
    assert result['kind'] == 'official_subnet'
    subnet = read_subnet_file(result['paths']['subnet'])
    assert subnet['depth'] == [2, 3, 4, 3, 2]
    assert subnet['resolution'] == 176
    model = init_model(result['paths']['config'],
                       result['paths']['checkpoint'])
    x = torch.randn(2, 3, 176, 176)
    with torch.no_grad():
        assert (model(x) - static(x)).abs().max() <= 1e-5


def test_mmrazor_checkpoint_and_subnet_files(tmp_path):
    official = official_supernet(1.0, seed=4)
    mmrazor = dict(carry_official_weights(official).state_dict())
    mmrazor['architecture.backbone.first_mutable_channels.mask'] = \
        torch.ones(16)
    mmrazor['architecture.backbone.last_mutable_channels.mask'] = \
        torch.ones(1280)
    torch.save({'state_dict': mmrazor, 'meta': {}}, tmp_path / 'razor.pth')
    result = convert(tmp_path / 'razor.pth', tmp_path / 'out.pth')
    assert result['kind'] == 'mmrazor_mbv3'
    assert_same_logits(official, init_model(CONFIGS[1.0],
                                            tmp_path / 'out.pth'))

    lat22 = REFERENCE / 'mmrazor_OFA_SUBNET_NOTE8_LAT22.yaml'
    result = convert(lat22, tmp_path / 'lat22.yaml')
    assert result['width'] == 1.0
    subnet = yaml.safe_load((tmp_path / 'lat22.yaml').read_text())
    assert subnet['depth'] == [2] * 5 and subnet['resolution'] == 140


def test_tool_converts_and_refuses(tmp_path):
    official = official_supernet(1.0, seed=6)
    src = tmp_path / 'ofa_w10.pth'
    torch.save(official.state_dict(), src)
    out = run_tool('tools/convert_ofa_ckpt.py', src, tmp_path / 'ok.pth')
    assert 'official_mbv3, width 1.0' in out.stdout
    bad = run_tool(
        'tools/convert_ofa_ckpt.py',
        src,
        tmp_path / 'w12.pth',
        '--width',
        '1.2',
        check=False)
    assert bad.returncode != 0
    assert 'has width 1.0 (first conv 16 channels); --width 1.2 expects 24' \
        in bad.stderr
    assert not (tmp_path / 'w12.pth').exists()


def _refused(tmp_path, state, pattern, **kwargs):
    tmp_path.mkdir(exist_ok=True)
    src = tmp_path / 'src.pth'
    if isinstance(state, bytes):
        src.write_bytes(state)
    else:
        torch.save(state, src)
    dst = tmp_path / 'dst.pth'
    with pytest.raises(ConversionError, match=pattern):
        convert(src, dst, **kwargs)
    assert not dst.exists()
    assert [p.name for p in tmp_path.iterdir()] == ['src.pth']


def test_bad_sources_write_nothing(tmp_path):
    state = official_supernet(1.0, seed=7).state_dict()
    missing = dict(state)
    del missing['blocks.3.conv.point_linear.bn.bn.running_var']
    _refused(
        tmp_path / 'a', missing, r'1 missing: architecture.backbone.'
        r'layer2.2.linear_conv.bn.running_var')
    extra = dict(state, **{'blocks.2.conv.extra.weight': torch.zeros(1)})
    _refused(tmp_path / 'b', extra, "unknown block parameter 'extra.weight'")
    _refused(tmp_path / 'c', b'this is not a checkpoint',
             'src.pth is not a checkpoint: it is neither a zip archive')
    good = tmp_path / 'good.pth'
    torch.save(state, good)
    _refused(tmp_path / 'd',
             good.read_bytes()[:4096], 'truncated or corrupt zip archive')
    _refused(tmp_path / 'e', state, 'expects 24', width=1.2)
    wrong_shape = dict(state)
    wrong_shape['classifier.linear.weight'] = torch.zeros(10, 1280)
    _refused(
        tmp_path / 'f', wrong_shape, r'1 mismatched: architecture.head.'
        r'fc.weight: source \(10, 1280\) vs mmofa \(1000, 1280\)')


def assert_same_resnet_logits(official, model, seed=0, count=2):
    generator = random.Random(seed)
    torch.manual_seed(seed)
    for _ in range(count):
        model.sample_subnet('random', generator)
        arch = model.dump_subnet(fmt='arch_dict')
        official.set_active_subnet(d=arch['d'], e=arch['e'], w=arch['w'])
        x = torch.randn(1, 3, 64, 64)
        with torch.no_grad():
            assert (model(x) - official(x)).abs().max() <= 1e-5


@pytest.mark.parametrize('wrapped', [False, True])
def test_official_resnet_supernet(tmp_path, wrapped):
    official = official_resnet(seed=9)
    state = official.state_dict()
    src = tmp_path / 'ofa_resnet50'
    torch.save({'state_dict': state, 'epoch': 180} if wrapped else state, src)
    result = convert(src, tmp_path / 'out.pth')
    assert result == dict(
        kind='official_resnet',
        width=None,
        paths=dict(checkpoint=tmp_path / 'out.pth'))
    model = init_model(RESNET50_CONFIG, tmp_path / 'out.pth')
    assert_same_resnet_logits(official, model, seed=int(wrapped))


def test_resnet_tool_round_trip_and_refusals(tmp_path):
    official = official_resnet(seed=10)
    src = tmp_path / 'ofa_resnet50.pth'
    torch.save(official.state_dict(), src)
    out = run_tool('tools/convert_ofa_ckpt.py', src, tmp_path / 'ok.pth')
    assert f'converted {src} (official_resnet):' in out.stdout
    assert_same_resnet_logits(official,
                              init_model(RESNET50_CONFIG, tmp_path / 'ok.pth'))
    for extra, message in (
        (['--arch', 'ofa_mbv3'], 'is an ofa_resnet50 checkpoint '
         r'(official_resnet), not ofa_mbv3; nothing was written'),
        (['--width', '1.0'], 'the width (--width 1.0) applies to OFA '
         'MobileNetV3 only'),
    ):
        bad = run_tool(
            'tools/convert_ofa_ckpt.py',
            src,
            tmp_path / 'bad.pth',
            *extra,
            check=False)
        assert bad.returncode != 0 and message in bad.stderr
        assert not (tmp_path / 'bad.pth').exists()

    # The converted supernet tested by tools/test.py with an arch dict.
    data = make_imagenet_like(tmp_path / 'data', num_train=4, size=72)
    (tmp_path / 'arch.json').write_text(
        json.dumps(dict(d=1, e=0.25, w=[2, 1, 0, 1, 2, 0], image_size=64)))
    options = [f'model.subnet={tmp_path / "arch.json"}']
    for key in ('test_dataloader', 'test_cfg.calibration_dataloader'):
        options += [
            f'{key}.dataset.data_root={data}', f'{key}.batch_size=4',
            f'{key}.num_workers=0', f'{key}.persistent_workers=False'
        ]
    out = run_tool('tools/test.py',
                   'configs/ofa_resnet/ofa_resnet50_subnet_8xb256_in1k.py',
                   tmp_path / 'ok.pth', '--work-dir', tmp_path / 'work',
                   '--cfg-options', *options)
    assert 'current_R64/accuracy/top1' in out.stdout + out.stderr


def test_bad_resnet_sources_write_nothing(tmp_path):
    state = official_resnet(seed=11).state_dict()
    missing = dict(state)
    del missing['blocks.17.conv3.bn.bn.running_var']
    _refused(
        tmp_path / 'a', missing, r'1 missing: architecture.backbone.'
        r'layer4.3.conv3.bn.running_var')
    extra = dict(state, **{'blocks.2.conv4.conv.conv.weight': torch.zeros(1)})
    _refused(
        tmp_path / 'b', extra,
        'blocks.2.conv4.conv.conv.weight: not a key of the official '
        'OFA ResNet')
    wrong_shape = dict(state)
    wrong_shape['classifier.linear.linear.weight'] = torch.zeros(10, 2048)
    _refused(
        tmp_path / 'c', wrong_shape, r'1 mismatched: architecture.head.'
        r'fc.weight: source \(10, 2048\) vs mmofa \(1000, 2048\)')
    fewer_blocks = {
        k: v
        for k, v in state.items() if not k.startswith('blocks.17.')
    }
    _refused(tmp_path / 'd', fewer_blocks,
             r'18 missing: architecture.backbone.layer4.3.conv1.bn.bias, ')
    _refused(
        tmp_path / 'e',
        state,
        'is an ofa_resnet50 checkpoint',
        arch='ofa_mbv3')
    mbv3 = official_supernet(1.0, seed=7).state_dict()
    _refused(
        tmp_path / 'f', mbv3, 'is an ofa_mbv3 checkpoint', arch='ofa_resnet50')


def test_resnet_arch_dict_file(tmp_path):
    arch = dict(
        d=[2, 0, 1, 2, 0], e=[0.25] * 18, w=[2, 1, 0, 0, 1, 2], image_size=128)
    (tmp_path / 'arch.json').write_text(json.dumps(arch))
    result = convert(tmp_path / 'arch.json', tmp_path / 'subnet.yaml')
    assert result['kind'] == 'resnet_subnet'
    subnet = read_subnet_file(tmp_path / 'subnet.yaml')
    assert subnet == dict(
        depth=[2, 0, 1, 2, 0],
        expand_ratio=[[0.25] * 2, [0.25] * 3, [0.25] * 6, [0.25] * 2],
        width_mult=[1.0, 0.8, 0.65, 0.65, 0.8, 1.0],
        resolution=128)


def specialised_resnet(tmp_path, stem_depth=0, seed=12):
    """A model-zoo folder (as resnet50D_MAC@4.1B_top1@79.8) of a subnet of
    the official OFAResNets (10 classes): the stem's residual conv skipped
    (``stem_depth`` 0) or run (2), mixed depths, expand ratios and widths;
    and the official static subnet."""
    official = official_resnet(n_classes=10, seed=seed)
    e = [
        0.2, 0.35, 0.25, 0.35, 0.25, 0.2, 0.35, 0.35, 0.35, 0.2, 0.25, 0.2,
        0.35, 0.2, 0.2, 0.25, 0.35, 0.25
    ]
    official.set_active_subnet(
        d=[stem_depth, 2, 0, 1, 2], e=e, w=[2, 0, 1, 0, 2, 1])
    static = official.get_active_subnet(preserve_weight=True).eval()
    zoo = tmp_path / 'resnet50D_MAC@4.1B_top1@79.8'
    zoo.mkdir()
    (zoo / 'net.config').write_text(json.dumps(static.config))
    (zoo / 'run.config').write_text(json.dumps({'image_size': 160}))
    torch.save({'state_dict': static.state_dict()}, zoo / 'init')
    return zoo, static


@pytest.mark.parametrize('stem_depth', [0, 2])
def test_official_specialised_resnet_subnet(tmp_path, stem_depth):
    zoo, static = specialised_resnet(tmp_path, stem_depth)
    # The stem: conv, (residual conv,) conv.
    assert len(static.config['input_stem']) == 2 + stem_depth // 2
    result = convert(zoo, tmp_path / 'resnet50D.pth')
    assert result['kind'] == 'official_resnet_subnet'
    assert read_subnet_file(result['paths']['subnet']) == dict(
        depth=[stem_depth, 2, 0, 1, 2],
        expand_ratio=[[0.2, 0.35, 0.25, 0.35], [0.25, 0.2],
                      [0.35, 0.2, 0.25, 0.2, 0.35], [0.2, 0.25, 0.35, 0.25]],
        width_mult=[1.0, 0.65, 0.8, 0.65, 1.0, 0.8],
        resolution=160)
    model = init_model(result['paths']['config'],
                       result['paths']['checkpoint'])
    x = torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        official, converted = static(x), model(x)
    assert converted.shape == (2, 10)
    assert (converted - official).abs().max() <= 1e-5
    if stem_depth:
        return

    # The same from weights with --net-config / --run-config, by the tool.
    out = run_tool('tools/convert_ofa_ckpt.py', zoo / 'init',
                   tmp_path / 'tool.pth', '--net-config', zoo / 'net.config',
                   '--run-config', zoo / 'run.config')
    assert '(official_resnet_subnet)' in out.stdout
    assert torch.equal(
        torch.load(
            tmp_path /
            'tool.pth')['state_dict']['backbone.layer3.4.conv2.conv.weight'],
        torch.load(result['paths']['checkpoint'])['state_dict']
        ['backbone.layer3.4.conv2.conv.weight'])


def test_specialised_resnet_subnet_refusals(tmp_path):
    zoo, static = specialised_resnet(tmp_path)
    net = static.config
    out = tmp_path / 'out'
    out.mkdir()

    def refused(config, pattern, **kwargs):
        (zoo / 'net.config').write_text(json.dumps(config))
        with pytest.raises(ConversionError, match=pattern):
            convert(zoo, out / 'bad.pth', **kwargs)
        assert list(out.iterdir()) == []

    # Stage 1, block 1 (blocks[1]): 208 output channels; the expand ratios
    # give 40, 56 and 72 middle channels.
    bad = json.loads(json.dumps(net))
    assert bad['blocks'][1]['out_channels'] == 208
    bad['blocks'][1]['mid_channels'] = 64
    refused(
        bad, r'blocks\[1\] \(stage 1, block 1\) mid_channels \(for 208 '
        r'output channels\) = 64 does not fit the OFA ResNet space; '
        r'allowed: 40 \(expand ratio 0.2\), 56 \(expand ratio 0.25\), '
        r'72 \(expand ratio 0.35\); nothing was written')
    bad = json.loads(json.dumps(net))
    del bad['blocks'][5]  # stage 2 keeps one block
    refused(
        bad, r'the number of blocks of stage 2 = 1 does not fit the OFA '
        r'ResNet space; allowed: 2 \(depth 0\), 3 \(depth 1\), 4 \(depth 2\)')
    bad = json.loads(json.dumps(net))
    bad['blocks'][0]['downsample_mode'] = 'conv'
    refused(
        bad, r"blocks\[0\] \(stage 1, block 0\) has downsample_mode = "
        r"'conv'; expected 'avgpool_conv' \(OFA ResNet space\); nothing was")
    bad = json.loads(json.dumps(net))
    bad['input_stem'][0]['out_channels'] = 16
    refused(
        bad, r'input_stem\[0\] out_channels = 16 does not fit the OFA '
        r'ResNet space; allowed: 24 \(width multiplier 0.65\), 24 \(width '
        r'multiplier 0.8\), 32 \(width multiplier 1.0\)')
    refused(
        dict(net, name='MobileNetV3'), "name 'MobileNetV3' does not "
        'describe the official_resnet weights')
    refused(
        net, r'the width \(--width 1.0\) applies to OFA MobileNetV3 '
        'only',
        width=1.0)


def test_converted_checkpoints_with_the_test_tools(tmp_path):
    """tools/dist_test.sh evaluates a converted supernet with a subnet YAML
    and a converted specialised subnet on an ImageNet-format folder."""
    data = make_imagenet_like(
        tmp_path / 'data', num_train=8, num_val=4, size=72)
    official = official_supernet(1.0, seed=8)
    torch.save(official.state_dict(), tmp_path / 'ofa.pth')
    convert(tmp_path / 'ofa.pth', tmp_path / 'supernet.pth')
    official.set_active_subnet(ks=5, e=4, d=3)
    static = official.get_active_subnet()
    zoo = tmp_path / 'zoo'
    zoo.mkdir()
    (zoo / 'net.config').write_text(json.dumps(static.config))
    torch.save({'state_dict': static.state_dict()}, zoo / 'init')
    convert(zoo, tmp_path / 'static.pth')

    options = ['test_cfg.calibrate_bn=None']
    for key in ('test_dataloader', 'test_cfg.calibration_dataloader'):
        options += [
            f'{key}.dataset.data_root={data}', f'{key}.batch_size=4',
            f'{key}.num_workers=0', f'{key}.persistent_workers=False'
        ]
    config = 'configs/ofa/ofa_mbv3_subnet_8xb256_in1k.py'
    for ckpt, extra, name in (
        ('supernet.pth',
         ['model.subnet=configs/subnets/mmrazor_note8_lat31.yaml'
          ], 'current_R152'),
        ('static.pth', [], 'static_R224'),
    ):
        out = run_tool(
            'bash',
            'tools/dist_test.sh',
            config,
            tmp_path / ckpt,
            '2',
            '--work-dir',
            tmp_path / f'work_{name}',
            '--cfg-options',
            *options,
            *extra,
            env={'PORT': free_port()})
        assert f'{name}/accuracy/top1' in out.stdout + out.stderr
