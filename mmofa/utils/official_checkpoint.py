"""Key mapping from the official Once-for-All MobileNetV3 to mmofa.

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
    converted, unknown, sources = {}, [], {}
    for key, value in state_dict.items():
        try:
            new_key = official_mbv3_key(key, stage_depths)
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
