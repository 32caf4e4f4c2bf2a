"""The CVPR 2022 NAS track 1 ResNet-48 subnets and their arch codes."""
import json
import random

import pytest

from mmofa.structures import (ResNet48SearchSpace, ResNet48Subnet, SubnetError,
                              dump_resnet48_subnet, parse_resnet48_subnet)

SPACE = ResNet48SearchSpace()
# The example of the track's task definition (51 digits) and entries of the
# track's released architecture file (52 digits: resolution digit 1 first).
TASK_EXAMPLE = '348311131310000332323230014143424241434543757770000'
RELEASED = [
    '1252233313000000223212122253130000000000006515000000',
    '1447233323333300331313230025153545153545003252000000',
    '1526421212322232112100000014443444143400006666764600',
    '1244431333000000211131310021515121000000004111715100',
    '1448531313231300123222220032124212323242524525756555',
    '1558523212323222131323233342425242124232522333435343',
]


def random_subnet(generator: random.Random) -> ResNet48Subnet:
    ratios = SPACE.channel_ratios
    depth = tuple(generator.choice(d) for d in SPACE.depths)
    return ResNet48Subnet(
        depth, tuple(generator.choice(ratios) for _ in depth),
        tuple(
            tuple(generator.choice(ratios) for _ in range(d)) for d in depth))


def random_code(generator: random.Random) -> str:
    """A code written digit by digit, as the track's files have them."""
    depth = [generator.choice(d) for d in SPACE.depths]
    out = [str(generator.randint(1, 7)) for _ in depth]
    code = ''.join(map(str, depth)) + out[0]
    for s, max_depth in enumerate(SPACE.max_depths):
        for b in range(max_depth):
            code += (
                str(generator.randint(1, 7)) +
                out[s] if b < depth[s] else '00')
    return code


def test_task_example_decodes_as_described():
    subnet = parse_resnet48_subnet(TASK_EXAMPLE, SPACE)
    assert subnet.depth == (3, 4, 8, 3)
    # Stem digit 1 (= 1.0) is also every output digit of stage 1.
    assert subnet.out_ratio == (1.0, 0.9, 0.85, 0.7)
    assert subnet.mid_ratio[0] == (1.0, 0.9, 0.9)
    assert subnet.mid_ratio[3] == (0.9, 0.8, 0.7)
    assert subnet.resolution is None
    assert subnet.to_arch_code(SPACE) == TASK_EXAMPLE
    assert SPACE.code_length == 51


@pytest.mark.parametrize('arch', RELEASED)
def test_released_codes_round_trip(arch):
    subnet = parse_resnet48_subnet(arch, SPACE)
    assert subnet.resolution == 224
    assert dump_resnet48_subnet(subnet, SPACE, 'track_arch') == arch
    assert dump_resnet48_subnet(subnet, SPACE, 'arch_code') == arch[1:]
    # One entry of the track's JSON file.
    entry = {'arch': arch, 'acc': 0.0}
    assert parse_resnet48_subnet(entry, SPACE) == subnet


def test_random_codes_and_subnets_round_trip():
    generator = random.Random(0)
    for _ in range(200):
        code = random_code(generator)
        assert parse_resnet48_subnet(code, SPACE).to_arch_code(SPACE) == code
        subnet = random_subnet(generator)
        code = subnet.to_arch_code(SPACE)
        assert len(code) == 51
        assert parse_resnet48_subnet(code, SPACE) == subnet
        mapping = dump_resnet48_subnet(subnet, SPACE, 'mmofa')
        assert parse_resnet48_subnet(mapping, SPACE) == subnet


def test_max_and_min_codes():
    largest = ResNet48Subnet((5, 5, 8, 5), (1.0, ) * 4,
                             tuple((1.0, ) * d for d in (5, 5, 8, 5)))
    assert largest.to_arch_code(SPACE) == '5585' + '1' + '11' * 23
    smallest = ResNet48Subnet((2, 2, 2, 2), (0.7, ) * 4,
                              tuple((0.7, ) * 2 for _ in range(4)))
    code = '2222' + '7' + ('77' * 2 + '00' * 3) * 2 + '77' * 2 + '00' * 6 + \
        '77' * 2 + '00' * 3
    assert smallest.to_arch_code(SPACE) == code
    for subnet in (largest, smallest):
        assert parse_resnet48_subnet(subnet.to_arch_code(SPACE),
                                     SPACE) == subnet


def test_codes_from_files(tmp_path):
    # Unquoted in YAML, a code is read as a number: still a code.
    path = tmp_path / 'code.yaml'
    path.write_text(TASK_EXAMPLE + '\n')
    assert parse_resnet48_subnet(path,
                                 SPACE).to_arch_code(SPACE) == TASK_EXAMPLE
    path = tmp_path / 'entry.json'
    path.write_text(json.dumps({'arch': RELEASED[0], 'acc': 0.71}))
    assert parse_resnet48_subnet(str(path), SPACE).resolution == 224
    assert parse_resnet48_subnet(int(TASK_EXAMPLE),
                                 SPACE).to_arch_code(SPACE) == TASK_EXAMPLE


def _replace(code: str, position: int, digits: str) -> str:
    """``code`` with the digits at 1-based ``position`` replaced."""
    return code[:position - 1] + digits + code[position - 1 + len(digits):]


@pytest.mark.parametrize(
    'code,message',
    [
        (TASK_EXAMPLE[:-1], 'has 50 digits; expected 51'),
        (TASK_EXAMPLE + '00', 'has 53 digits; expected 51'),
        (_replace(TASK_EXAMPLE, 7, 'x'), "has 'x' at digit 7"),
        ('2' + TASK_EXAMPLE, 'the first of 52 digits is the resolution '
         'digit, got 2'),
        # depth of stage 1 is 6: allowed 2-5
        (_replace(TASK_EXAMPLE, 1, '6'),
         'digit 1 (depth of stage 1) = 6 is not allowed; allowed depths: '
         '[2, 3, 4, 5]'),
        (_replace(TASK_EXAMPLE, 3, '1'), 'allowed depths: [2, 3, 4, 5, 6, 7, '
         '8]'),
        (_replace(TASK_EXAMPLE, 5, '8'),
         'digit 5 (stem ratio) is 8, not a channel ratio digit; allowed: '
         '1 = 1.0, 2 = 0.95'),
        # stage 1 has depth 3: block 4 (digits 12-13) must be 00
        (_replace(TASK_EXAMPLE, 12, '11'),
         'digits 12-13 (stage 1, block 4) are 11, but the stage has depth 3'),
        # block 3 of stage 1 is active
        (_replace(TASK_EXAMPLE, 10, '00'),
         'digits 10-11 (stage 1, block 3) are 00, but block 3 is active'),
        (_replace(TASK_EXAMPLE, 10, '31'[0] + '0'), 'are 30, but block 3'),
        (_replace(TASK_EXAMPLE, 10, '98'),
         'digit 10 (stage 1, block 3, conv1) is 9, not a channel ratio digit'),
        (_replace(TASK_EXAMPLE, 10, '19'),
         'digit 11 (stage 1, block 3, conv2) is 9, not a channel ratio digit'),
        # stage 1 outputs must equal the stem digit (1)
        (_replace(TASK_EXAMPLE, 9, '2'),
         'digits 8-9 (stage 1, block 2): the second digit is 2 but the stem '
         'digit has 1'),
        # stage 2 outputs must equal its first block's (3)
        (_replace(TASK_EXAMPLE, 19, '4'),
         'digits 18-19 (stage 2, block 2): the second digit is 4 but block 1 '
         'of stage 2 has 3'),
    ])
def test_bad_codes_raise_clear_errors(code, message):
    with pytest.raises(SubnetError, match='arch code|digit') as error:
        parse_resnet48_subnet(code, SPACE, source='codes.json:arch7')
    assert message in str(error.value)
    assert str(error.value).startswith('codes.json:arch7: ')


@pytest.mark.parametrize('data,message', [
    (dict(depth=[2, 2, 2], out_ratio=[1.0] * 4, mid_ratio=[[1.0] * 2] * 4),
     'depth has 3 stages, the supernet has 4'),
    (dict(depth=[2] * 4, out_ratio=[1.0] * 4, mid_ratio=[[1.0] * 3] * 4),
     'mid_ratio[0] has 3 values but depth[0] is 2'),
    (dict(
        depth=[2] * 4, out_ratio=[0.6] + [1.0] * 3, mid_ratio=[[1.0] * 2] * 4),
     'out_ratio[0] = 0.6 is not allowed; allowed channel ratios: '
     '[1.0, 0.95'),
    (dict(
        depth=[2] * 4,
        out_ratio=[1.0] * 4,
        mid_ratio=[[1.0] * 2] * 4,
        kernel_size=3), "unknown keys ['kernel_size']"),
    (dict(
        depth=[2] * 4,
        out_ratio=[1.0] * 4,
        mid_ratio=[[1.0] * 2] * 4,
        base_channels=[32, 64, 128, 256]),
     'base_channels = [32, 64, 128, 256] but the supernet has '
     'base_channels [64, 128'),
    (dict(arch=TASK_EXAMPLE, score=1), "unknown keys ['score']"),
])
def test_bad_mappings_raise_clear_errors(data, message):
    with pytest.raises(SubnetError) as error:
        parse_resnet48_subnet(data, SPACE)
    assert message in str(error.value)


def test_unknown_dump_format():
    subnet = parse_resnet48_subnet(TASK_EXAMPLE, SPACE)
    with pytest.raises(ValueError, match="'arch_dict'; allowed"):
        dump_resnet48_subnet(subnet, SPACE, 'arch_dict')
    with pytest.raises(SubnetError, match='resolution 160 has no digit'):
        subnet.with_resolution(160).to_track_arch(SPACE)
