"""Key mapping from the official Once-for-All MobileNetV3 and ResNets to mmofa.

The official supernet (``OFAMobileNetV3``) and its extracted static networks
(``MobileNetV3``) name blocks ``blocks.N`` in one flat list; mmofa (like
MMRazor) names them ``layer{stage}.{index}``, stage 1 being the fixed first
block. Both official key styles are accepted:
``blocks.N.mobile_inverted_conv.`` (released checkpoints) and
``blocks.N.conv.`` (current code), with or without the doubled
``.conv.conv.`` / ``.bn.bn.`` of the dynamic layers.
"""
import re
from typing import Dict, List, Mapping, Sequence, Tuple

_BLOCK = re.compile(r'^blocks\.(\d+)\.(?:mobile_inverted_conv|conv)\.(.+)$')

# Official block-relative names (after un-doubling) -> mmofa names.
_BLOCK_RULES = [
    (re.compile(r'^inverted_bottleneck\.(conv\.weight|bn\..+)$'),
     r'expand_conv.\1'),
    (re.compile(r'^depth_conv\.(conv\.weight|bn\..+)$'), r'depthwise_conv.\1'),
    (re.compile(r'^depth_conv\.conv\.(\d+)to(\d+)_matrix$'),
     r'depthwise_conv.conv.trans_matrix_\1to\2'),
    (re.compile(r'^depth_conv\.se\.fc\.reduce\.(weight|bias)$'),
     r'se.conv1.conv.\1'),
    (re.compile(r'^depth_conv\.se\.fc\.expand\.(weight|bias)$'),
     r'se.conv2.conv.\1'),
    (re.compile(r'^point_linear\.(conv\.weight|bn\..+)$'), r'linear_conv.\1'),
]

_TOP_RULES = [
    (re.compile(r'^first_conv\.(conv\.weight|bn\..+)$'),
     r'backbone.first_conv.\1'),
    (re.compile(r'^final_expand_layer\.(conv\.weight|bn\..+)$'),
     r'backbone.last_conv.final_expand_layer.\1'),
    (re.compile(r'^feature_mix_layer\.conv\.weight$'),
     r'backbone.last_conv.feature_mix_layer.conv.weight'),
    (re.compile(r'^classifier\.linear\.(weight|bias)$'), r'head.fc.\1'),
]

_DOUBLED = re.compile(r'(?:^|(?<=\.))(conv|bn|linear)\.\1\.')


def _undouble(name: str) -> str:
    """``x.conv.conv.weight`` -> ``x.conv.weight``; same for bn and linear.

    Only whole name parts count: ``depth_conv.conv.weight`` stays as it is.
    """
    return _DOUBLED.sub(r'\1.', name)


def block_locations(stage_depths: Sequence[int]) -> List[Tuple[int, int]]:
    """``(layer, index)`` of each official block: ``blocks.0`` is layer 1."""
    locations = [(1, 0)]
    for s, depth in enumerate(stage_depths):
        locations += [(s + 2, b) for b in range(depth)]
    return locations


def official_mbv3_key(key: str, stage_depths: Sequence[int]) -> str:
    """The mmofa key (``backbone.`` / ``head.`` prefixed) of an official key.

    Args:
        key (str): A key of an official ``OFAMobileNetV3`` or ``MobileNetV3``
            state dict.
        stage_depths (Sequence[int]): Blocks per elastic stage in that state
            dict: the largest depths for a supernet (``[4] * 5``), the active
            depths for an extracted static network.

    Raises:
        KeyError: The key is not part of the official MobileNetV3 layout.
    """
    match = _BLOCK.match(key)
    if match:
        index, rest = int(match.group(1)), _undouble(match.group(2))
        locations = block_locations(stage_depths)
        if index >= len(locations):
            raise KeyError(f'{key}: block {index} does not exist with stage '
                           f'depths {list(stage_depths)}')
        layer, b = locations[index]
        for pattern, replacement in _BLOCK_RULES:
            if pattern.match(rest):
                return (f'backbone.layer{layer}.{b}.' +
                        pattern.sub(replacement, rest))
        raise KeyError(f'{key}: unknown block parameter {rest!r}')
    name = _undouble(key)
    for pattern, replacement in _TOP_RULES:
        if pattern.match(name):
            return pattern.sub(replacement, name)
    raise KeyError(f'{key}: not a key of the official OFA MobileNetV3')


def convert_official_mbv3(state_dict: Mapping,
                          stage_depths: Sequence[int]) -> Dict[str, object]:
    """An official MobileNetV3 state dict with mmofa keys.

    Raises:
        KeyError: Naming every key that has no mmofa counterpart, or two
            keys that map to the same mmofa key.
    """
    return _convert_keys(state_dict,
                         lambda key: official_mbv3_key(key, stage_depths))


def _convert_keys(state_dict: Mapping, new_key_of) -> Dict[str, object]:
    """``state_dict`` renamed by ``new_key_of``; a KeyError naming every
    key it refuses and every two keys that map to one."""
    converted, unknown, sources = {}, [], {}
    for key, value in state_dict.items():
        try:
            new_key = new_key_of(key)
        except KeyError as error:
            unknown.append(str(error.args[0]))
            continue
        if new_key in sources:
            unknown.append(f'{key} and {sources[new_key]} both map to '
                           f'{new_key}')
            continue
        sources[new_key] = key
        converted[new_key] = value
    if unknown:
        raise KeyError('cannot convert official keys:\n  ' +
                       '\n  '.join(unknown))
    return converted


def official_block_convs(net_config: Mapping) -> List[Mapping]:
    """The MBConv settings of every block of an official ``net.config``."""
    convs = []
    for index, block in enumerate(net_config.get('blocks', [])):
        conv = block.get('conv') or block.get('mobile_inverted_conv')
        if not isinstance(conv, Mapping):
            raise KeyError(f'net.config: block {index} has no conv settings')
        convs.append(conv)
    return convs


# Official OFA ResNets (``OFAResNets`` / ``ResNets``) -> mmofa OFAResNet.
_RESNET_STEM = re.compile(r'^input_stem\.(\d+)\.(.+)$')
_CONV_OR_BN = re.compile(r'^(conv\.weight|bn\.[a-z_]+)$')
_RESNET_BLOCK = re.compile(r'^blocks\.(\d+)\.(conv[123]|downsample)\.'
                           r'(conv\.weight|bn\.[a-z_]+)$')
_RESNET_CLASSIFIER = re.compile(r'^classifier\.linear\.(weight|bias)$')


def official_resnet_key(key: str,
                        stage_blocks: Sequence[int],
                        stem_residual: bool = True) -> str:
    """The mmofa key (``backbone.`` / ``head.`` prefixed) of an official
    OFA ResNet key.

    ``input_stem.{0,1,2}`` become ``stem.conv{1,2,3}`` (the residual conv
    ``input_stem.1.conv`` is conv2) and ``blocks.N`` becomes
    ``layer{s}.{b}``; the doubled ``.conv.conv.`` / ``.bn.bn.`` /
    ``.linear.linear.`` of the dynamic layers are accepted.

    Args:
        key (str): A key of an official ``OFAResNets`` or ``ResNets``
            state dict.
        stage_blocks (Sequence[int]): Blocks per stage in that state dict:
            ``[4, 4, 6, 4]`` for the ofa_resnet50 supernet, the active
            blocks for an extracted static network.
        stem_residual (bool): Whether the state dict has the stem's
            residual conv (an extracted network without it numbers its
            last stem conv ``input_stem.1``).

    Raises:
        KeyError: The key is not part of the official OFA ResNet layout.
    """
    match = _RESNET_STEM.match(key)
    if match:
        index, rest = int(match.group(1)), match.group(2)
        convs = ('conv1', 'conv2', 'conv3') if stem_residual else ('conv1',
                                                                   'conv3')
        if index >= len(convs):
            raise KeyError(f'{key}: input stem layer {index} does not exist '
                           f'(the stem has {len(convs)} convs)')
        if convs[index] == 'conv2':  # ResidualBlock(conv=..., shortcut)
            if not rest.startswith('conv.'):
                raise KeyError(f'{key}: the residual stem conv has keys '
                               f'input_stem.{index}.conv.*')
            rest = rest[len('conv.'):]
        rest = _undouble(rest)
        if not _CONV_OR_BN.match(rest):
            raise KeyError(f'{key}: unknown input stem parameter {rest!r}')
        return f'backbone.stem.{convs[index]}.{rest}'
    name = _undouble(key)
    match = _RESNET_BLOCK.match(name)
    if match:
        index = int(match.group(1))
        locations = [(s + 1, b) for s, count in enumerate(stage_blocks)
                     for b in range(count)]
        if index >= len(locations):
            raise KeyError(f'{key}: block {index} does not exist with '
                           f'{list(stage_blocks)} blocks per stage')
        layer, b = locations[index]
        return (f'backbone.layer{layer}.{b}.{match.group(2)}.'
                f'{match.group(3)}')
    match = _RESNET_CLASSIFIER.match(name)
    if match:
        return f'head.fc.{match.group(1)}'
    raise KeyError(f'{key}: not a key of the official OFA ResNet')


def convert_official_resnet(state_dict: Mapping,
                            stage_blocks: Sequence[int] = (4, 4, 6, 4),
                            stem_residual: bool = True) -> Dict[str, object]:
    """An official OFA ResNet state dict with mmofa keys.

    Raises:
        KeyError: Naming every key that has no mmofa counterpart, or two
            keys that map to the same mmofa key.
    """
    return _convert_keys(
        state_dict,
        lambda key: official_resnet_key(key, stage_blocks, stem_residual))
