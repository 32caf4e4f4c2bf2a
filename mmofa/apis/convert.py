"""Official Once-for-All (MobileNetV3, ResNet50) and MMRazor checkpoints and
subnets into mmofa.

Every conversion checks before writing: each source key is used, each target
key is filled, shapes match. It reports the keys by name and writes nothing
on failure; output files are written atomically.
"""
from pathlib import Path
from typing import Callable, Dict, Mapping, Optional, Tuple, Union

import torch

from mmofa.structures import (SubnetError, parse_mobilenet_v3_subnet,
                              read_subnet_file, write_subnet_file)
from mmofa.utils.checkpoint import (CheckpointError, load_checkpoint_file,
                                    save_checkpoint_file, state_dict_mismatch,
                                    state_dict_of)
from mmofa.utils.make_divisible import make_divisible
from mmofa.utils.official_checkpoint import (convert_official_mbv3,
                                             convert_official_resnet,
                                             official_block_convs)
from mmofa.version import __version__
from .inference import ConfigLike, init_model, write_static_subnet

PathLike = Union[str, Path]
RELEASED_WIDTHS = (1.0, 1.2)
MMRAZOR_MASKS = ('architecture.backbone.first_mutable_channels.mask',
                 'architecture.backbone.last_mutable_channels.mask')
# The source architecture (``--arch``) of each kind of source.
ARCH_OF_KIND = dict(
    official_mbv3='ofa_mbv3',
    mmrazor_mbv3='ofa_mbv3',
    official_resnet='ofa_resnet50')


class ConversionError(ValueError):
    """A source that cannot become a complete mmofa checkpoint."""


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
    """``official_mbv3``, ``mmrazor_mbv3`` or ``official_resnet``."""
    keys = list(state_dict)
    if any(k.startswith('input_stem.') for k in keys):
        return 'official_resnet'
    if any(k.startswith('architecture.backbone.') for k in keys):
        return 'mmrazor_mbv3'
    if any(k.startswith(('blocks.', 'first_conv.')) for k in keys):
        return 'official_mbv3'
    shown = ', '.join(keys[:4])
    raise ConversionError(
        f'{source}: not an OFA checkpoint of a known layout (keys: {shown}, '
        '...); expected the official MobileNetV3 layout (blocks.N...), '
        "MMRazor's (architecture.backbone...) or the official ResNet layout "
        '(input_stem...)')


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
        converted = {}
        for key, value in state_dict.items():
            if key in MMRAZOR_MASKS:
                width = target[
                    'architecture.backbone.first_conv.conv.weight'].shape[0] \
                    if 'first' in key else \
                    target['architecture.head.fc.weight'].shape[1]
                if value.numel() != width:
                    raise ConversionError(
                        f'{source}: {key} has {value.numel()} channels, the '
                        f'mmofa supernet {width}; nothing was written')
            else:
                converted[key] = value
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
                           source: str) -> Tuple[dict, float, int]:
    """mmofa subnet mapping, width and number of classes of an official
    specialised MobileNetV3 ``net.config``."""
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
    return subnet, width, net_config['classifier']['out_features']


def convert_ofa_checkpoint(src: PathLike,
                           dst: PathLike,
                           config_for_width: Callable[[float], ConfigLike],
                           width: Optional[float] = None,
                           net_config: Optional[PathLike] = None,
                           run_config: Optional[PathLike] = None,
                           resnet_config: Optional[ConfigLike] = None,
                           arch: str = 'auto') -> dict:
    """Convert one source into mmofa files; see tools/convert_ofa_ckpt.py.

    Args:
        src: An official or MMRazor checkpoint, a model-zoo folder of a
            specialised subnet (``net.config``, ``init``, ``run.config``),
            or a subnet YAML/JSON (MMRazor or official arch dict).
        dst: The file to write (``.pth``; ``.yaml`` for a subnet file).
        config_for_width: The supernet config of a width multiplier.
        width: Expected width; detected from shapes when None.
        net_config, run_config: ``net.config`` / ``run.config`` of a
            specialised subnet given as a weights file.
        resnet_config: The OFA ResNet50 supernet config, for official
            ``OFAResNets`` checkpoints and ResNet arch dicts.
        arch: The expected source architecture, ``'ofa_mbv3'`` or
            ``'ofa_resnet50'``; ``'auto'`` (default) accepts either.

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
    if kind == 'official_resnet':
        return _convert_resnet(state_dict, src, dst, width, net_config,
                               resnet_config)
    if net_config is not None:
        return _convert_specialised(state_dict, src, dst, Path(net_config),
                                    run_config, config_for_width)
    first_key = ('architecture.backbone.first_conv.conv.weight'
                 if kind == 'mmrazor_mbv3' else 'first_conv.conv.weight')
    if first_key not in state_dict:
        raise ConversionError(f'{src}: no {first_key}; nothing was written')
    width = detect_width(state_dict[first_key].shape[0], width, str(src))
    config = config_for_width(width)
    model = init_model(config)
    converted = convert_supernet(state_dict, kind, model, str(src))
    return _save_supernet(converted, src, dst, kind, width)


def _save_supernet(state_dict, src: Path, dst: Path, kind: str,
                   width: Optional[float]) -> dict:
    meta = dict(
        mmofa_version=__version__, converted_from=str(src), source_format=kind)
    if width is not None:
        meta['width_mult'] = width
    save_checkpoint_file(dict(state_dict=state_dict, meta=meta), dst)
    return dict(kind=kind, width=width, paths=dict(checkpoint=dst))


def _convert_resnet(state_dict, src: Path, dst: Path, width, net_config,
                    resnet_config) -> dict:
    if width is not None:
        raise ConversionError(
            f'{src} is an OFA ResNet checkpoint: the width (--width '
            f'{width}) applies to OFA MobileNetV3 only (the ResNet supernet '
            'holds all its widths); nothing was written')
    if net_config is not None:
        raise ConversionError(
            f'{src}: specialised OFA ResNet subnets (net.config) are not '
            'supported, only the official OFAResNets supernet '
            '(ofa_resnet50); nothing was written')
    if resnet_config is None:
        raise ConversionError(f'{src} is an OFA ResNet checkpoint: give the '
                              'OFA ResNet supernet config; nothing was '
                              'written')
    model = init_model(resnet_config)
    converted = convert_resnet_supernet(state_dict, model, str(src))
    return _save_supernet(converted, src, dst, 'official_resnet', None)


def _convert_specialised(state_dict, src: Path, dst: Path, net_config: Path,
                         run_config, config_for_width) -> dict:
    import json

    from mmofa.registry import MODELS
    from mmofa.utils.official_checkpoint import official_mbv3_key
    try:
        net = json.loads(net_config.read_text())
    except (OSError, ValueError) as error:
        raise ConversionError(f'{net_config}: not a readable net.config '
                              f'({error}); nothing was written') from None
    subnet, width, num_classes = subnet_from_net_config(net, str(net_config))
    if run_config is not None:
        subnet['resolution'] = json.loads(
            Path(run_config).read_text())['image_size']
    model = init_model(
        config_for_width(width),
        cfg_options={'model.architecture.head.num_classes': num_classes})
    try:
        model.set_subnet(subnet, source=str(net_config))
    except SubnetError as error:
        raise ConversionError(f'{error}; nothing was written') from None
    static = MODELS.build(model.export_subnet_config())
    try:
        converted = {
            official_mbv3_key(k, subnet['depth']): v
            for k, v in state_dict.items()
        }
    except KeyError as error:
        raise ConversionError(f'{src}: {error.args[0]}; nothing was '
                              'written') from None
    check_complete(converted, static.state_dict(), str(src))
    paths = write_static_subnet(
        converted,
        model.dump_subnet(fmt='mmofa'),
        model.export_subnet_config(),
        dst,
        model.cfg,
        meta=dict(converted_from=str(src), source_format='official_subnet'))
    return dict(kind='official_subnet', width=width, paths=paths)


def _convert_subnet_file(src: Path, dst: Path, config_for_width,
                         width: Optional[float], resnet_config,
                         arch: str) -> dict:
    from mmofa.structures import detect_format
    data = read_subnet_file(src)
    if arch == 'ofa_resnet50' or (arch == 'auto' and isinstance(data, Mapping)
                                  and 'w' in data and 'ks' not in data):
        if resnet_config is None:
            raise ConversionError(f'{src} is an OFA ResNet subnet: give the '
                                  'OFA ResNet supernet config')
        model = init_model(resnet_config)
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
