import json
import re

import pytest
import yaml
from helpers import REFERENCE

from mmofa.models.architectures.backbones import OFAMobileNetV3
from mmofa.structures import (MobileNetV3Subnet, SubnetError,
                              dump_mobilenet_v3_subnet,
                              parse_mobilenet_v3_subnet, write_subnet_file)


@pytest.fixture(scope='module')
def space():
    return OFAMobileNetV3().search_space


@pytest.fixture(scope='module')
def space_w12():
    return OFAMobileNetV3(width_mult=1.2).search_space


EXAMPLE_ARCH = json.loads((REFERENCE / 'example_arch.json').read_text())


def test_official_arch_dict(space):
    subnet = parse_mobilenet_v3_subnet(EXAMPLE_ARCH, space)
    assert subnet.depth == (3, 2, 4, 2, 4)
    assert subnet.kernel_size[0] == (5, 3, 5)  # ks[0:3], ks[3] is skipped
    assert subnet.expand_ratio[4] == (6, 6, 4, 4)
    assert subnet.resolution is None
    arch = subnet.to_arch_dict(space)
    assert len(arch['ks']) == len(arch['e']) == 20 and arch['d'] == [
        3, 2, 4, 2, 4
    ]
    assert parse_mobilenet_v3_subnet(arch, space) == subnet
    # Scalars broadcast, as in the official set_active_subnet.
    largest = parse_mobilenet_v3_subnet(dict(ks=7, e=6, d=4, r=192), space)
    assert largest.kernel_size == ((7, ) * 4, ) * 5
    assert largest.resolution == 192
    # The official NAS code keeps the resolution as a one-element list.
    assert parse_mobilenet_v3_subnet({
        **EXAMPLE_ARCH, 'image_size': [160]
    }, space).resolution == 160


def test_round_trip_through_all_formats(space, tmp_path):
    subnet = parse_mobilenet_v3_subnet({
        **EXAMPLE_ARCH, 'image_size': 176
    }, space)
    for fmt in ('mmofa', 'mmrazor', 'arch_dict'):
        if fmt == 'mmrazor':  # 176 px is not one of MMRazor's sizes
            with pytest.raises(SubnetError, match='resolution 176 cannot'):
                dump_mobilenet_v3_subnet(subnet, space, fmt)
            subnet = subnet.with_resolution(192)
        data = dump_mobilenet_v3_subnet(subnet, space, fmt)
        assert parse_mobilenet_v3_subnet(data, space) == subnet
        path = write_subnet_file(data, tmp_path / f'{fmt}.yaml')
        assert parse_mobilenet_v3_subnet(path, space) == subnet
    json_path = tmp_path / 'arch.json'
    json_path.write_text(json.dumps(subnet.to_arch_dict(space)))
    assert parse_mobilenet_v3_subnet(json_path, space) == subnet


def test_mmrazor_reference_yamls_load(space):
    lat22 = parse_mobilenet_v3_subnet(
        REFERENCE / 'mmrazor_OFA_SUBNET_NOTE8_LAT22.yaml', space)
    assert lat22 == MobileNetV3Subnet(
        depth=(2, 2, 2, 2, 2),
        kernel_size=((3, 3), (5, 5), (7, 3), (5, 3), (3, 7)),
        expand_ratio=((3, 3), (3, 3), (4, 3), (3, 4), (6, 6)),
        resolution=140)
    lat31 = parse_mobilenet_v3_subnet(
        REFERENCE / 'mmrazor_OFA_SUBNET_NOTE8_LAT31.yaml', space)
    assert lat31.depth == (2, 2, 3, 3, 4) and lat31.resolution == 152
    assert lat31.expand_ratio[4] == (6, 3, 3, 3)


def test_mmrazor_dump_has_every_key_of_their_files(space):
    reference = yaml.safe_load(
        (REFERENCE / 'mmrazor_OFA_SUBNET_NOTE8_LAT22.yaml').read_text())
    subnet = parse_mobilenet_v3_subnet(reference, space)
    dumped = subnet.to_mmrazor(space)
    assert set(reference) <= set(dumped)
    for key in ('backbone.layers.4.depth', 'backbone.layers.6.out_channels',
                'backbone.first_channels', 'input_shape',
                'backbone.layers.6.1.kernel_size'):
        assert dumped[key] == reference[key]


def test_mmrazor_yaml_of_other_width_is_refused(space_w12):
    with pytest.raises(
            SubnetError,
            match=r'backbone.first_channels = 16 but '
            r'this supernet has 24 there'):
        parse_mobilenet_v3_subnet(
            REFERENCE / 'mmrazor_OFA_SUBNET_NOTE8_LAT22.yaml', space_w12)


def test_mmofa_yaml_of_other_width_is_refused(space, space_w12):
    subnet = parse_mobilenet_v3_subnet(EXAMPLE_ARCH, space)
    data = subnet.to_mmofa(space)
    with pytest.raises(
            SubnetError,
            match=r'width_mult = 1.0 but the supernet'
            r' has width_mult 1.2'):
        parse_mobilenet_v3_subnet(data, space_w12)


def _mmofa(**changes):
    data = dict(
        depth=[2, 3, 4, 2, 3],
        kernel_size=[[3, 5], [5, 5, 7], [3, 3, 3, 3], [7, 7], [5, 3, 3]],
        expand_ratio=[[3, 4], [6, 6, 4], [3, 3, 3, 3], [6, 6], [4, 3, 6]])
    data.update(changes)
    return data


@pytest.mark.parametrize('data,pattern', [
    (dict(ks=[9] + [3] * 19, e=3, d=2),
     r"'ks'\[0\] \(stage 0, block 0\) = 9 is not allowed; allowed kernel "
     r'sizes: \[3, 5, 7\]'),
    (dict(ks=3, e=3, d=[2, 2, 5, 2, 2]),
     r"'d'\[2\] = 5 is not allowed; allowed depths: \[2, 3, 4\]"),
    (dict(ks=3, e=3, d=[2, 2, 2, 2]),
     r'd has 4 entries, the supernet needs 5: \[2, 2, 2, 2\]'),
    (dict(ks=[3] * 19, e=3, d=2), r'ks has 19 entries, the supernet needs 20'),
    (dict(ks=3.0, e=3,
          d=2), r"'ks'\[0\] \(stage 0, block 0\) = 3.0 must be an integer"),
    (dict(ks=3, e=5, d=2),
     r"'e'\[0\] \(stage 0, block 0\) = 5 is not allowed; allowed expand "
     r'ratios: \[3, 4, 6\]'),
    (dict(ks=3, e=3), r"missing keys \['d'\]"),
    (dict(ks=3, e=3, d=2, width=1), r"unknown keys \['width'\]"),
    (_mmofa(kernel_size=[[3, 9], [5, 5, 7], [3, 3, 3, 3], [7, 7], [5, 3, 3]]),
     r'kernel_size\[0\]\[1\] = 9 is not allowed; allowed kernel sizes: '
     r'\[3, 5, 7\]'),
    (_mmofa(depth=[2, 3, 4, 2, 5]),
     r'depth\[4\] = 5 is not allowed; allowed depths: \[2, 3, 4\]'),
    (_mmofa(depth=[2, 3, 4, 2]), r'depth has 4 stages, the supernet has 5'),
    (_mmofa(expand_ratio=[[3, 4], [6, 6, 4], [3, 3, 3], [6, 6], [4, 3, 6]]),
     r'expand_ratio\[2\] has 3 values but depth\[2\] is 4'),
    (_mmofa(resolution=-3), r'resolution = -3 must be a positive integer'),
    (_mmofa(kernel_size='3'), r"kernel_size = '3' must be a list"),
])
def test_bad_subnets_name_key_value_and_allowed(space, data, pattern):
    with pytest.raises(SubnetError, match=pattern):
        parse_mobilenet_v3_subnet(data, space)


def _lat22():
    return yaml.safe_load(
        (REFERENCE / 'mmrazor_OFA_SUBNET_NOTE8_LAT22.yaml').read_text())


@pytest.mark.parametrize('change,pattern', [
    (lambda d: d.pop('backbone.layers.4.depth'),
     r'backbone.layers.4.depth is missing \(stage 2\); allowed: \[2, 3, 4\]'),
    (lambda d: d.update({'backbone.layers.3.1.kernel_size': {
        'chosen': 9
    }}), r'backbone.layers.3.1.kernel_size = 9 is not allowed; allowed kernel '
     r'sizes: \[3, 5, 7\]'),
    (lambda d: d.update({'backbone.layers.5.depth': {
        'chosen': 5
    }}), r'backbone.layers.5.depth = 5 is not allowed; allowed depths'),
    (lambda d: d.update({'backbone.layers.6.out_channels': {
        'chosen': 192
    }}), r'backbone.layers.6.out_channels = 192 but this supernet has 160'),
    (lambda d: d.update({'backbone.layers.2.0.width': {
        'chosen': 1
    }}), r"unknown key 'backbone.layers.2.0.width'"),
    (lambda d: d.update({'backbone.layers.2.4.kernel_size': {
        'chosen': 3
    }}), r'backbone.layers.2.4: stage 0 has 4 blocks'),
    (lambda d: d.update({'backbone.layers.3.0.expand_ratio_se': {
        'chosen': 6
    }}), r'expand_ratio_se = 6 gives a squeeze-excitation of 40 channels, but '
     r'expand_ratio = 3 gives 24'),
    (lambda d: d.pop('backbone.layers.2.1.kernel_size'),
     r'backbone.layers.2.1.kernel_size is missing for active block 1'),
    (lambda d: d.update({'input_shape': {
        'chosen': [140, 160]
    }}), r'input_shape = \[140, 160\] must be a square size'),
    (lambda d: d.update({'backbone.layers.2.depth': 2}),
     r'backbone.layers.2.depth: expected a mapping \{chosen: value\}'),
])
def test_bad_mmrazor_yaml(space, change, pattern):
    data = _lat22()
    change(data)
    with pytest.raises(SubnetError, match=pattern):
        parse_mobilenet_v3_subnet(data, space)


def test_mmrazor_blocks_past_depth_are_accepted(space):
    data = _lat22()
    # Values of skipped blocks do not change the subnet.
    data['backbone.layers.2.3.kernel_size'] = {'chosen': 7}
    assert parse_mobilenet_v3_subnet(data, space) == parse_mobilenet_v3_subnet(
        _lat22(), space)


def test_bad_files(space, tmp_path):
    malformed = tmp_path / 'bad.yaml'
    malformed.write_text('depth: [2, 3\nkernel_size: {')
    with pytest.raises(
            SubnetError, match=re.escape(str(malformed)) + ': not valid YAML'):
        parse_mobilenet_v3_subnet(malformed, space)
    listing = tmp_path / 'list.yaml'
    listing.write_text('- 1\n- 2\n')
    with pytest.raises(SubnetError, match='a subnet is a non-empty mapping'):
        parse_mobilenet_v3_subnet(listing, space)
    with pytest.raises(SubnetError, match='does not exist'):
        parse_mobilenet_v3_subnet(tmp_path / 'missing.yaml', space)
    unknown = tmp_path / 'unknown.yaml'
    unknown.write_text('width: 1\n')
    with pytest.raises(SubnetError, match='not a subnet in a known format'):
        parse_mobilenet_v3_subnet(unknown, space)
    # The error names the file it came from.
    bad_value = tmp_path / 'kernel9.yaml'
    write_subnet_file(
        _mmofa(
            kernel_size=[[9, 5], [5, 5, 7], [3, 3, 3, 3], [7, 7], [5, 3, 3]]),
        bad_value)
    with pytest.raises(SubnetError, match=re.escape(str(bad_value))):
        parse_mobilenet_v3_subnet(bad_value, space)


@pytest.mark.parametrize('name', ['lat22', 'lat31'])
def test_bundled_subnet_files_equal_the_reference(space, name):
    from helpers import REPO
    bundled = REPO / 'configs' / 'subnets' / f'mmrazor_note8_{name}.yaml'
    reference = REFERENCE / f'mmrazor_OFA_SUBNET_NOTE8_{name.upper()}.yaml'
    assert parse_mobilenet_v3_subnet(bundled, space) == \
        parse_mobilenet_v3_subnet(reference, space)
