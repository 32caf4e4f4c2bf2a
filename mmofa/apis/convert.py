"""Official Once-for-All (MobileNetV3, ResNet50) and MMRazor checkpoints and
subnets into mmofa.

Every conversion checks before writing: each source key is used, each target
key is filled, shapes match. It reports the keys by name and writes nothing
on failure; output files are written atomically.
"""
import json
import re
from pathlib import Path
from typing import Callable, Dict, Mapping, Optional, Tuple, Union

import torch

from mmofa.engine.subnet_export import write_static_subnet
from mmofa.structures import (SubnetError, parse_mobilenet_v3_subnet,
                              read_subnet_file, write_subnet_file)
from mmofa.utils.checkpoint import (CheckpointError, load_checkpoint_file,
                                    save_checkpoint_file, state_dict_mismatch,
                                    state_dict_of)
from mmofa.utils.config import ConfigLike
from mmofa.utils.make_divisible import make_divisible
from mmofa.utils.official_checkpoint import (convert_official_mbv3,
                                             convert_official_resnet,
                                             official_block_convs)
from mmofa.version import __version__
from .inference import init_model

PathLike = Union[str, Path]
RELEASED_WIDTHS = (1.0, 1.2)
MMRAZOR_MASKS = ('architecture.backbone.first_mutable_channels.mask',
                 'architecture.backbone.last_mutable_channels.mask')
# The source architecture (``--arch``) of each kind of source.
ARCH_OF_KIND = dict(
    official_mbv3='ofa_mbv3',
    mmrazor_mbv3='ofa_mbv3',
    mmrazor_subnet='ofa_mbv3',
    official_resnet='ofa_resnet50')


class ConversionError(ValueError):
    """A source that cannot become a complete mmofa checkpoint."""


def to_mmrazor_state_dict(state_dict: Mapping,
                          source: str) -> Dict[str, torch.Tensor]:
    """An mmofa OFA MobileNetV3 state dict in MMRazor's layout: a supernet
    (``architecture.`` keys) or a static subnet (prefixed here, as MMRazor's
    subnet config loads it with ``prefix='architecture.'``), with MMRazor's
    two channel masks (all ones of the fixed first and last widths), so
    that MMRazor loads it strictly.

    Raises:
        ConversionError: Not an OFA MobileNetV3 state dict.
    """
    first_keys = ('architecture.backbone.first_conv.conv.weight',
                  'backbone.first_conv.conv.weight')
    found = [k for k in first_keys if k in state_dict]
    if not found or not any('.layer1.0.' in k for k in state_dict):
        raise ConversionError(
            f'{source}: not an OFA MobileNetV3 checkpoint (no '
            f'{first_keys[0]} or {first_keys[1]}, no layer1.0); MMRazor\'s '
            'layout exists for OFA MobileNetV3 only')
    prefix = '' if found[0].startswith('architecture.') else 'architecture.'
    converted = {prefix + k: v for k, v in state_dict.items()}
    first = converted['architecture.backbone.first_conv.conv.weight']
    last = converted['architecture.head.fc.weight']
    for key, width in zip(MMRAZOR_MASKS, (first.shape[0], last.shape[1])):
        converted[key] = torch.ones(width)
    return converted


def _drop_mmrazor_masks(state_dict: dict, prefix: str, first: int, last: int,
                        source: str) -> None:
    """Check MMRazor's two channel masks (``prefix`` + ``backbone.``...)
    against the fixed first and last widths and drop them."""
    from mmofa.models.architectures.backbones.ofa_mobilenet_v3 import \
        mmrazor_mask_problem
    for key, width in zip(MMRAZOR_MASKS, (first, last)):
        key = prefix + key[len('architecture.'):]
        problem = mmrazor_mask_problem(state_dict.pop(key, None), width, key)
        if problem:
            raise ConversionError(f'{source}: {problem}; nothing was written')


def _first_channels(width: float) -> int:
    return make_divisible(16 * width, 8)


def detect_width(first_channels: int, width: Optional[float],
                 source: str) -> float:
    """The width multiplier of a source whose first conv has
    ``first_channels`` outputs; checked against ``width`` if given."""
    found = [
        w for w in RELEASED_WIDTHS if _first_channels(w) == first_channels
    ]
    if width is not None:
        if _first_channels(width) != first_channels:
            have = f'width {found[0]}' if found else 'an unknown width'
            raise ConversionError(
                f'{source} has {have} (first conv {first_channels} '
                f'channels); --width {width} expects '
                f'{_first_channels(width)}')
        return width
    if not found:
        raise ConversionError(
            f'{source}: a first conv of {first_channels} channels matches no '
            f'released width {list(RELEASED_WIDTHS)}; give --width')
    return found[0]


def detect_kind(state_dict: Mapping, source: str) -> str:
    """``official_mbv3``, ``mmrazor_mbv3`` (a supernet), ``mmrazor_subnet``
    (a static subnet, with or without the ``architecture.`` prefix: no
    kernel transform matrices) or ``official_resnet``."""
    keys = list(state_dict)
    if any(k.startswith('input_stem.') for k in keys):
        return 'official_resnet'
    if any(
            k.startswith(('architecture.backbone.', 'backbone.layer1.'))
            for k in keys):
        if any('.trans_matrix_' in k for k in keys):
            return 'mmrazor_mbv3'
        return 'mmrazor_subnet'
    if any(k.startswith(('blocks.', 'first_conv.')) for k in keys):
        return 'official_mbv3'
    shown = ', '.join(keys[:4])
    raise ConversionError(
        f'{source}: not an OFA checkpoint of a known layout (keys: {shown}, '
        '...); expected the official MobileNetV3 layout (blocks.N...), '
        "MMRazor's (architecture.backbone... or backbone.layerN...) or the "
        'official ResNet layout (input_stem...)')


def check_complete(converted: Mapping, target: Mapping, source: str) -> None:
    """Every target key filled with the right shape, nothing left over."""
    problems = state_dict_mismatch(
        converted, target, 'source', 'mmofa', unused_label='unused')
    if problems:
        raise ConversionError(
            '\n'.join([f'{source} does not convert completely:'] + problems) +
            '\nnothing was written')


def _load_state_dict(path: Path) -> Dict[str, torch.Tensor]:
    try:
        return state_dict_of(load_checkpoint_file(path), str(path))
    except CheckpointError as error:
        raise ConversionError(f'{error}\nnothing was written') from None


def convert_supernet(state_dict: Mapping, kind: str, model,
                     source: str) -> Dict[str, torch.Tensor]:
    """The state dict of an ``OFA`` model from an official or MMRazor one.

    An official static full network (no transform matrices, e.g. the
    released ``ofa_D4_E6_K7``) gets identity matrices.
    """
    target = model.state_dict()
    if kind == 'mmrazor_mbv3':
        converted = dict(state_dict)
        _drop_mmrazor_masks(
            converted, 'architecture.',
            target['architecture.backbone.first_conv.conv.weight'].shape[0],
            target['architecture.head.fc.weight'].shape[1], source)
    else:
        try:
            converted = {
                f'architecture.{k}': v
                for k, v in convert_official_mbv3(state_dict, [4] * 5).items()
            }
        except KeyError as error:
            raise ConversionError(f'{source}: {error.args[0]}\n'
                                  'nothing was written') from None
        has_matrices = any('trans_matrix' in k for k in converted)
        if not has_matrices:  # a static full network
            for key, value in target.items():
                if 'trans_matrix' in key:
                    converted[key] = torch.eye(value.shape[0])
    check_complete(converted, target, source)
    return converted


def convert_resnet_supernet(state_dict: Mapping, model,
                            source: str) -> Dict[str, torch.Tensor]:
    """The state dict of an ``OFA`` model with an ``OFAResNet`` backbone
    from an official ``OFAResNets`` one (e.g. ``ofa_resnet50``)."""
    try:
        converted = {
            f'architecture.{k}': v
            for k, v in convert_official_resnet(
                state_dict, model.search_space.max_depths).items()
        }
    except KeyError as error:
        raise ConversionError(f'{source}: {error.args[0]}\n'
                              'nothing was written') from None
    check_complete(converted, model.state_dict(), source)
    return converted


def subnet_from_net_config(net_config: Mapping,
                           source: str) -> Tuple[dict, float]:
    """mmofa subnet mapping and width of an official specialised
    MobileNetV3 ``net.config``."""
    from mmofa.models.architectures.static.mobilenet_v3 import \
        MobileNetV3Layout
    from mmofa.structures import expanded_width
    if net_config.get('name') != 'MobileNetV3':
        raise ConversionError(f'{source}: name {net_config.get("name")!r} is '
                              "not 'MobileNetV3'")
    width = detect_width(net_config['first_conv']['out_channels'], None,
                         source)
    layout = MobileNetV3Layout.build(width)
    convs = official_block_convs(net_config)
    first = convs[0]
    if first.get('expand_ratio') != 1 or first.get('kernel_size') != 3:
        raise ConversionError(f'{source}: block 0 is not the fixed first '
                              'block (kernel 3, expand 1)')
    kernel_size, expand_ratio = [[] for _ in layout.stage_out_channels], \
        [[] for _ in layout.stage_out_channels]
    stage, in_channels = -1, first['out_channels']
    for index, conv in enumerate(convs[1:], start=1):
        if stage + 1 < len(layout.stage_out_channels) and conv[
                'out_channels'] == layout.stage_out_channels[stage + 1] and (
                    stage < 0 or conv['out_channels'] != in_channels):
            stage += 1
        if stage < 0 or conv['out_channels'] != \
                layout.stage_out_channels[stage]:
            raise ConversionError(
                f'{source}: block {index} has {conv["out_channels"]} output '
                'channels, not those of an OFA MobileNetV3 stage '
                f'{list(layout.stage_out_channels)}')
        first_of_stage = not kernel_size[stage]
        stride = layout.stage_strides[stage] if first_of_stage else 1
        e = conv['expand_ratio']
        mid = conv.get('mid_channels')
        if conv['stride'] != stride or bool(conv.get('use_se')) != \
                layout.stage_use_se[stage] or (
                    mid is not None and mid != expanded_width(in_channels, e)):
            raise ConversionError(
                f'{source}: block {index} (stride {conv["stride"]}, SE '
                f'{conv.get("use_se")}, middle width {mid}) does not fit '
                f'stage {stage} of the OFA MobileNetV3 layout')
        kernel_size[stage].append(conv['kernel_size'])
        expand_ratio[stage].append(e)
        in_channels = conv['out_channels']
    subnet = dict(
        depth=[len(k) for k in kernel_size],
        kernel_size=kernel_size,
        expand_ratio=expand_ratio)
    return subnet, width


# The fixed settings of the layers of the OFA ResNet50 space as the official
# ``ConvLayer`` / ``ResNetBottleneckBlock`` configs write them; the keys in
# ``_OPTIONAL`` may be absent (``get_active_net_config`` leaves them out).
_RESNET_CONV = dict(
    name='ConvLayer',
    kernel_size=3,
    use_bn=True,
    act_func='relu',
    dilation=1,
    groups=1,
    bias=False,
    use_se=False,
    ops_order='weight_bn_act')
_RESNET_BOTTLENECK = dict(
    name='ResNetBottleneckBlock',
    kernel_size=3,
    act_func='relu',
    groups=1,
    downsample_mode='avgpool_conv')
_OPTIONAL = {'dilation', 'groups', 'bias', 'use_se', 'ops_order'}


def _check_layer(layer, what: str, source: str, **expected) -> None:
    """Every ``expected`` setting of the official layer config ``layer``."""
    if not isinstance(layer, Mapping):
        raise ConversionError(f'{source}: {what} = {layer!r} is not a layer '
                              'config')
    for key, value in expected.items():
        found = layer.get(key, value if key in _OPTIONAL else None)
        if found != value:
            raise ConversionError(
                f'{source}: {what} has {key} = {found!r}; expected '
                f'{value!r} (OFA ResNet space)')


def _out_channels(layer: Mapping, what: str, source: str) -> int:
    """``layer['out_channels']``, a positive integer."""
    value = layer.get('out_channels')
    if not isinstance(value, int) or value < 1:
        raise ConversionError(f'{source}: {what} has out_channels = '
                              f'{value!r}; expected a positive integer')
    return value


def _candidate_of(value, candidates, width_of, what: str, label: str,
                  source: str):
    """The first of ``candidates`` whose ``width_of`` is ``value``."""
    for candidate in candidates:
        if width_of(candidate) == value:
            return candidate
    allowed = ', '.join(f'{width_of(c)} ({label} {c})' for c in candidates)
    raise ConversionError(f'{source}: {what} = {value!r} does not fit the '
                          f'OFA ResNet space; allowed: {allowed}')


def resnet_subnet_from_net_config(net_config: Mapping, space,
                                  source: str) -> dict:
    """mmofa subnet mapping of an official specialised ``ResNets``
    ``net.config`` (``OFAResNets.get_active_subnet().config``).

    The stem's widths give its width multipliers, its residual conv its
    depth; the blocks (a stage starts at each block with a downsample
    shortcut) give the stage depths, each stage's output width its width
    multiplier and each block's middle width its expand ratio. Where several
    multipliers give one width (the stem's first conv: 24 channels for 0.65
    and 0.8) the smallest is taken; the network is the same.

    Args:
        net_config (Mapping): The ``net.config``.
        space (ResNetSearchSpace): The supernet's space it must fit.
        source (str): Its name, for errors.
    """
    from mmofa.structures.resnet_subnet import bottleneck_width
    if net_config.get('name') != 'ResNets':
        raise ConversionError(f'{source}: name {net_config.get("name")!r} is '
                              "not 'ResNets'")
    stem = net_config.get('input_stem')
    if not isinstance(stem, list) or len(stem) not in (2, 3):
        got = f'{len(stem)} layers' if isinstance(stem, list) else repr(stem)
        raise ConversionError(
            f'{source}: input_stem must list 2 or 3 layers (conv, optional '
            f'residual conv, conv), got {got}')
    _check_layer(
        stem[0],
        'input_stem[0]',
        source,
        in_channels=3,
        stride=2,
        **_RESNET_CONV)
    mid = _out_channels(stem[0], 'input_stem[0]', source)
    width_mult = [
        _candidate_of(mid, space.width_mults, space.stem_mid_channels,
                      'input_stem[0] out_channels', 'width multiplier', source)
    ]
    if len(stem) == 3:
        _check_layer(stem[1], 'input_stem[1]', source, name='ResidualBlock')
        _check_layer(
            stem[1].get('shortcut'),
            'input_stem[1].shortcut',
            source,
            name='IdentityLayer')
        _check_layer(
            stem[1].get('conv'),
            'input_stem[1].conv',
            source,
            in_channels=mid,
            out_channels=mid,
            stride=1,
            **_RESNET_CONV)
    what = f'input_stem[{len(stem) - 1}]'
    _check_layer(
        stem[-1], what, source, in_channels=mid, stride=1, **_RESNET_CONV)
    in_channels = _out_channels(stem[-1], what, source)
    width_mult.append(
        _candidate_of(in_channels, space.width_mults, space.stem_out_channels,
                      f'{what} out_channels', 'width multiplier', source))

    stages = []  # (index, config) of the blocks of each stage
    for index, block in enumerate(net_config.get('blocks') or []):
        _check_layer(
            block, f'blocks[{index}]', source, in_channels=in_channels)
        out_channels = _out_channels(block, f'blocks[{index}]', source)
        if block.get('stride') != 1 or in_channels != out_channels:
            if len(stages) == space.num_stages:
                raise ConversionError(
                    f'{source}: blocks[{index}] (a downsample shortcut) '
                    f'starts stage {len(stages) + 1}; the OFA ResNet space '
                    f'has {space.num_stages} stages')
            stages.append([])
        elif not stages:
            raise ConversionError(
                f'{source}: blocks[{index}] has no downsample shortcut '
                '(stride 1, as many input as output channels); the first '
                'block of the OFA ResNet space has one')
        s, b = len(stages) - 1, len(stages[-1])
        _check_layer(
            block,
            f'blocks[{index}] (stage {s + 1}, block {b})',
            source,
            stride=space.stage_strides[s] if b == 0 else 1,
            **_RESNET_BOTTLENECK)
        stages[-1].append((index, block))
        in_channels = out_channels
    if len(stages) != space.num_stages:
        raise ConversionError(
            f'{source}: the blocks form {len(stages)} stages (one per '
            'downsample shortcut); the OFA ResNet space has '
            f'{space.num_stages}')

    depth = [max(space.depths) if len(stem) == 3 else min(space.depths)]
    expand_ratio = []
    for s, blocks in enumerate(stages):
        base, out_channels = space.base_depths[s], blocks[0][1]['out_channels']
        depth.append(
            _candidate_of(
                len(blocks), space.depths, lambda d: base + d,
                f'the number of blocks of stage {s + 1}', 'depth', source))
        width_mult.append(
            _candidate_of(out_channels, space.width_mults,
                          lambda w: space.stage_out_channels(s, w),
                          f'the out_channels of stage {s + 1}',
                          'width multiplier', source))
        expand_ratio.append([
            _candidate_of(
                block.get('mid_channels'), space.expand_ratios,
                lambda e: bottleneck_width(out_channels, e),
                f'blocks[{index}] (stage {s + 1}, block {b}) mid_channels '
                f'(for {out_channels} output channels)', 'expand ratio',
                source) for b, (index, block) in enumerate(blocks)
        ])
    return dict(depth=depth, expand_ratio=expand_ratio, width_mult=width_mult)


def convert_ofa_checkpoint(src: PathLike,
                           dst: PathLike,
                           config_for_width: Callable[[float], ConfigLike],
                           width: Optional[float] = None,
                           net_config: Optional[PathLike] = None,
                           run_config: Optional[PathLike] = None,
                           resnet_config: Optional[ConfigLike] = None,
                           arch: str = 'auto',
                           subnet: Optional[PathLike] = None) -> dict:
    """Convert one source into mmofa files; see tools/convert_ofa_ckpt.py.

    Args:
        src: An official or MMRazor checkpoint, a model-zoo folder of a
            specialised MobileNetV3 or ResNet subnet (``net.config``,
            ``init``, ``run.config``), or a subnet YAML/JSON (MMRazor or
            official arch dict).
        dst: The file to write (``.pth``; ``.yaml`` for a subnet file).
        config_for_width: The supernet config of a width multiplier.
        width: Expected width; detected from shapes when None.
        net_config, run_config: ``net.config`` / ``run.config`` of a
            specialised subnet given as a weights file.
        resnet_config: The OFA ResNet50 supernet config, for official
            ``OFAResNets`` checkpoints, specialised ``ResNets`` subnets and
            ResNet arch dicts.
        arch: The expected source architecture, ``'ofa_mbv3'`` or
            ``'ofa_resnet50'``; ``'auto'`` (default) accepts either.
        subnet: The subnet file (MMRazor or mmofa YAML) that defines an
            MMRazor static subnet checkpoint given as ``src``.

    Returns:
        dict: ``kind``, ``width`` (None for a ResNet) and the ``paths``
        written.
    """
    if arch not in ('auto', 'ofa_mbv3', 'ofa_resnet50'):
        raise ConversionError(f'arch = {arch!r}; allowed: auto, ofa_mbv3, '
                              'ofa_resnet50')
    src, dst = Path(src), Path(dst)
    if not src.exists():
        raise ConversionError(f'{src} does not exist; nothing was written')
    if src.is_dir():
        net_config = net_config or src / 'net.config'
        if run_config is None and (src / 'run.config').is_file():
            run_config = src / 'run.config'
        src = src / 'init'
    if src.suffix in ('.yaml', '.yml', '.json') and net_config is None:
        return _convert_subnet_file(src, dst, config_for_width, width,
                                    resnet_config, arch)
    state_dict = _load_state_dict(src)
    kind = detect_kind(state_dict, str(src))
    if arch != 'auto' and ARCH_OF_KIND[kind] != arch:
        raise ConversionError(
            f'{src} is an {ARCH_OF_KIND[kind]} checkpoint ({kind}), not '
            f'{arch}; nothing was written')
    if kind == 'official_resnet' and width is not None:
        raise ConversionError(
            f'{src} is an OFA ResNet checkpoint: the width (--width '
            f'{width}) applies to OFA MobileNetV3 only (the ResNet supernet '
            'holds all its widths); nothing was written')
    if (kind == 'mmrazor_subnet') != (subnet is not None):
        raise ConversionError(
            f'{src} is an MMRazor static subnet checkpoint: give the subnet '
            'YAML that defines it with --subnet; nothing was written'
            if subnet is
            None else f'--subnet {subnet} applies to an MMRazor static subnet '
            f'checkpoint; {src} is {kind}; nothing was written')
    if kind == 'mmrazor_subnet':
        return _convert_mmrazor_subnet(state_dict, src, dst, Path(subnet),
                                       config_for_width, width)
    if net_config is not None:
        return _convert_specialised(state_dict, kind, src, dst,
                                    Path(net_config), run_config,
                                    config_for_width, resnet_config)
    if kind == 'official_resnet':
        model = _resnet_model(resnet_config, f'{src} is an OFA ResNet '
                              'checkpoint')
        converted = convert_resnet_supernet(state_dict, model, str(src))
        return _save_supernet(converted, src, dst, kind, None)
    first_key = ('architecture.backbone.first_conv.conv.weight'
                 if kind == 'mmrazor_mbv3' else 'first_conv.conv.weight')
    if first_key not in state_dict:
        raise ConversionError(f'{src}: no {first_key}; nothing was written')
    width, config = _mbv3_config(state_dict[first_key].shape[0], width,
                                 config_for_width, str(src))
    model = init_model(config)
    converted = convert_supernet(state_dict, kind, model, str(src))
    return _save_supernet(converted, src, dst, kind, width)


def _mbv3_config(first_channels: int, width: Optional[float], config_for_width,
                 source: str):
    """The width and supernet config of an OFA MobileNetV3 source: a
    released width detected from the first conv, or the config given for
    any width (``config_for_width(None)``, e.g. ``--config``)."""
    try:
        width = detect_width(first_channels, width, source)
    except ConversionError:
        config = config_for_width(None) if width is None else None
        if config is None:
            raise
        return None, config
    return width, config_for_width(width)


_MMRAZOR_STATIC_BLOCK = re.compile(
    r'^backbone\.layer(?P<layer>\d+)\.(?P<block>\d+)\.(?P<part>\w+)')


def _mmrazor_entry(key: str, present_in_subnet: bool) -> str:
    """The MMRazor subnet entry that decides the shape of ``key``."""
    match = _MMRAZOR_STATIC_BLOCK.match(key)
    if match is None:
        return 'backbone.first_channels / backbone.last_channels'
    layer = f'backbone.layers.{match["layer"]}'
    if not present_in_subnet:
        return f'{layer}.depth'
    block = f'{layer}.{match["block"]}'
    if key.endswith('depthwise_conv.conv.weight'):
        return f'{block}.kernel_size and {block}.expand_ratio'
    return f'{block}.expand_ratio'


def _convert_mmrazor_subnet(state_dict, src: Path, dst: Path,
                            subnet_path: Path, config_for_width,
                            width: Optional[float]) -> dict:
    """An MMRazor static subnet checkpoint (the sliced model MMRazor's
    search saves, e.g. the released ``ofa_mobilenet_subnet_...`` files)
    and the subnet YAML that defines it, as a static mmofa subnet."""
    from mmofa.registry import MODELS
    weights = {
        k[len('architecture.'):] if k.startswith('architecture.') else k: v
        for k, v in state_dict.items()
    }
    first = weights.get('backbone.first_conv.conv.weight')
    if first is None:
        raise ConversionError(f'{src}: no backbone.first_conv.conv.weight; '
                              'nothing was written')
    width, config = _mbv3_config(first.shape[0], width, config_for_width,
                                 str(src))
    model = init_model(config)
    try:
        subnet = model.backbone.parse_subnet(subnet_path)
        model.set_subnet(subnet)
    except SubnetError as error:
        raise ConversionError(f'{error}; nothing was written') from None
    static_cfg = model.export_subnet_config()
    target = MODELS.build(static_cfg).state_dict()
    _drop_mmrazor_masks(weights, '',
                        target['backbone.first_conv.conv.weight'].shape[0],
                        target['head.fc.weight'].shape[1], str(src))
    by_entry = {}  # subnet entry -> the keys it misfits
    for key in sorted(set(weights) | set(target)):
        have, want = weights.get(key), target.get(key)
        if have is not None and want is not None and \
                tuple(have.shape) == tuple(want.shape):
            continue
        if have is None:
            misfit = f'{key} missing (subnet {tuple(want.shape)})'
        elif want is None:
            misfit = f'{key} {tuple(have.shape)} not in the subnet'
        else:
            misfit = (f'{key}: checkpoint {tuple(have.shape)} vs subnet '
                      f'{tuple(want.shape)}')
        by_entry.setdefault(_mmrazor_entry(key, want is not None),
                            []).append(misfit)
    if by_entry:
        lines = [f'{src} does not hold the subnet of {subnet_path}:']
        for entry, misfits in list(by_entry.items())[:10]:
            more = f' (+{len(misfits) - 1} more keys)' if len(
                misfits) > 1 else ''
            lines.append(f'  subnet entry {entry}: {misfits[0]}{more}')
        if len(by_entry) > 10:
            lines.append(f'  (+{len(by_entry) - 10} more entries)')
        raise ConversionError('\n'.join(lines + ['nothing was written']))
    paths = write_static_subnet(
        weights,
        model.dump_subnet(fmt='mmofa'),
        static_cfg,
        dst,
        model.cfg,
        meta=dict(
            converted_from=str(src),
            subnet_from=str(subnet_path),
            source_format='mmrazor_subnet'))
    return dict(kind='mmrazor_subnet', width=width, paths=paths)


def _save_supernet(state_dict, src: Path, dst: Path, kind: str,
                   width: Optional[float]) -> dict:
    meta = dict(
        mmofa_version=__version__, converted_from=str(src), source_format=kind)
    if width is not None:
        meta['width_mult'] = width
    save_checkpoint_file(dict(state_dict=state_dict, meta=meta), dst)
    return dict(kind=kind, width=width, paths=dict(checkpoint=dst))


def _resnet_model(resnet_config, what: str, num_classes: Optional[int] = None):
    """The OFA ResNet supernet of ``resnet_config``, needed by ``what``."""
    if resnet_config is None:
        raise ConversionError(f'{what}: give the OFA ResNet supernet config; '
                              'nothing was written')
    return init_model(resnet_config, cfg_options=_classes_options(num_classes))


def _classes_options(num_classes: Optional[int]) -> Optional[dict]:
    """cfg_options giving a supernet config ``num_classes`` classes."""
    if num_classes is None:
        return None
    return {
        f'model.architecture.{part}.num_classes': num_classes
        for part in ('head', 'data_preprocessor')
    }


def _read_json(path: PathLike, what: str) -> Mapping:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise ConversionError(f'{path}: not a readable {what} ({error}); '
                              'nothing was written') from None
    if not isinstance(data, Mapping):
        raise ConversionError(f'{path}: a {what} is a JSON object, got '
                              f'{type(data).__name__}; nothing was written')
    return data


# net.config ``name`` -> the kind of weights it describes.
_KIND_OF_NET = dict(MobileNetV3='official_mbv3', ResNets='official_resnet')


def _convert_specialised(state_dict, kind: str, src: Path, dst: Path,
                         net_config: Path, run_config, config_for_width,
                         resnet_config) -> dict:
    """An official specialised subnet (``MobileNetV3`` or ``ResNets``
    net.config and its weights) as a static mmofa subnet."""
    from mmofa.registry import MODELS
    net, source = _read_json(net_config, 'net.config'), str(net_config)
    name = net.get('name')
    if _KIND_OF_NET.get(name) != kind:
        allowed = ', '.join(f'{n!r} ({k} weights)'
                            for n, k in _KIND_OF_NET.items())
        raise ConversionError(
            f'{source}: name {name!r} does not describe the {kind} weights '
            f'of {src}; allowed: {allowed}; nothing was written')
    classifier = net.get('classifier')
    num_classes = classifier.get('out_features') if isinstance(
        classifier, Mapping) else None
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ConversionError(
            f'{source}: classifier.out_features = {num_classes!r} must be a '
            'positive integer; nothing was written')
    if kind == 'official_resnet':
        model = _resnet_model(resnet_config, f'{source} is an OFA ResNet '
                              'subnet', num_classes)
    try:
        if kind == 'official_resnet':
            width, subnet = None, resnet_subnet_from_net_config(
                net, model.backbone.search_space, source)
        else:
            subnet, width = subnet_from_net_config(net, source)
    except (KeyError, TypeError) as error:
        raise ConversionError(
            f'{source}: not a net.config of the official {name} layout '
            f'(missing or mistyped {error}); nothing was written') from None
    except ConversionError as error:
        raise ConversionError(f'{error}; nothing was written') from None
    if width is not None:
        model = init_model(
            config_for_width(width), cfg_options=_classes_options(num_classes))
    if run_config is not None:
        run = _read_json(run_config, 'run.config')
        if 'image_size' not in run:
            raise ConversionError(f'{run_config}: no image_size; nothing was '
                                  'written')
        subnet['resolution'] = run['image_size']
    try:
        model.set_subnet(subnet, source=source)
    except SubnetError as error:
        raise ConversionError(f'{error}; nothing was written') from None
    static_cfg = model.export_subnet_config()
    try:
        if width is None:
            backbone = static_cfg['backbone']
            converted = convert_official_resnet(
                state_dict, [len(mid) for mid in backbone['mid_channels']],
                backbone['stem_residual'])
        else:
            converted = convert_official_mbv3(state_dict, subnet['depth'])
    except KeyError as error:
        raise ConversionError(f'{src}: {error.args[0]}; nothing was '
                              'written') from None
    check_complete(converted, MODELS.build(static_cfg).state_dict(), str(src))
    kind = 'official_subnet' if width is not None else 'official_resnet_subnet'
    paths = write_static_subnet(
        converted,
        model.dump_subnet(fmt='mmofa'),
        static_cfg,
        dst,
        model.cfg,
        meta=dict(converted_from=str(src), source_format=kind))
    return dict(kind=kind, width=width, paths=paths)


def _convert_subnet_file(src: Path, dst: Path, config_for_width,
                         width: Optional[float], resnet_config,
                         arch: str) -> dict:
    from mmofa.structures import detect_format
    data = read_subnet_file(src)
    if arch == 'ofa_resnet50' or (arch == 'auto' and isinstance(data, Mapping)
                                  and 'w' in data and 'ks' not in data):
        model = _resnet_model(resnet_config, f'{src} is an OFA ResNet subnet')
        subnet = model.backbone.parse_subnet(data, str(src))
        path = write_subnet_file(model.backbone.dump_subnet(subnet), dst)
        return dict(kind='resnet_subnet', width=None, paths=dict(subnet=path))
    fmt = detect_format(data, str(src))
    if width is None and fmt == 'mmrazor' and \
            'backbone.first_channels' in data:
        width = detect_width(data['backbone.first_channels']['chosen'], None,
                             str(src))
    width = width or 1.0
    model = init_model(config_for_width(width))
    subnet = parse_mobilenet_v3_subnet(data, model.search_space, str(src))
    path = write_subnet_file(model.backbone.dump_subnet(subnet, 'mmofa'), dst)
    return dict(kind=f'{fmt}_subnet', width=width, paths=dict(subnet=path))
