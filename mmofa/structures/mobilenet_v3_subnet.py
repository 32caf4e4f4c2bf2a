"""One subnet of the OFA MobileNetV3 space, in and out of its three formats.

* the official arch dict: ``{'ks': [20], 'e': [20], 'd': [5]}`` plus an
  optional resolution (``image_size``, ``r`` or ``resolution``);
* MMRazor's alias YAML: ``{'backbone.layers.2.0.kernel_size': {'chosen': 3},
  ...}``;
* mmofa's own YAML: per-stage lists of the active blocks only::

      depth: [2, 3, 4, 2, 3]
      kernel_size: [[3, 5], [5, 5, 7], ...]
      expand_ratio: [[3, 4], [6, 6, 4], ...]
      resolution: 224        # optional
      width_mult: 1.0        # optional, checked against the supernet

Every error names the key, the value, what was allowed and the source.
"""
import re
from dataclasses import dataclass
from numbers import Number
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple, Union

from mmofa.utils import make_divisible
from .subnet_base import (StagedSearchSpace, Subnet, SubnetError,
                          SubnetFormats, arch_dict_list, arch_dict_resolution,
                          check_keys, check_per_block, choice, is_number,
                          load_subnet_data, optional_resolution)


def expanded_width(in_channels: int, expand_ratio: Number) -> int:
    """Middle width of an inverted bottleneck: ``make_divisible(in * e)``."""
    return make_divisible(round(in_channels * expand_ratio), 8)


def se_mid_channels(channels: int,
                    reduction: int = 4,
                    divisor: int = 8) -> int:
    """Hidden width of a squeeze-excitation over ``channels`` channels."""
    return make_divisible(channels // reduction, divisor)


@dataclass(frozen=True)
class MobileNetV3SearchSpace(StagedSearchSpace):
    """What an OFA MobileNetV3 supernet can run.

    Attributes:
        kernel_sizes, expand_ratios, depths: Candidates per elastic stage.
        width_mult (float): Width multiplier of the supernet.
        stage_in_channels, stage_out_channels: Widths around each stage.
        stage_use_se: Whether each stage has squeeze-excitation.
        first_channels (int): Width of the first conv.
        first_block_channels (int): Output width of the fixed first block.
        last_channels (int): Width of the feature mix layer.
        min_resolution (int): Smallest input side, the network's total
            stride (smaller inputs collapse to 1x1 before the last stages).
    """
    kernel_sizes: Tuple[Tuple[int, ...], ...]
    expand_ratios: Tuple[Tuple[Number, ...], ...]
    depths: Tuple[Tuple[int, ...], ...]
    width_mult: float
    stage_in_channels: Tuple[int, ...]
    stage_out_channels: Tuple[int, ...]
    stage_use_se: Tuple[bool, ...]
    first_channels: int
    first_block_channels: int
    last_channels: int
    min_resolution: int = 32

    def block_in_channels(self, stage: int, block: int) -> int:
        return (self.stage_in_channels[stage]
                if block == 0 else self.stage_out_channels[stage])


@dataclass(frozen=True)
class MobileNetV3Subnet(Subnet):
    """The active blocks of an OFA MobileNetV3 and, optionally, a resolution.

    ``kernel_size[s]`` and ``expand_ratio[s]`` hold one entry per active
    block of stage ``s`` (``depth[s]`` entries). Instances are hashable, so
    equal subnets compare and deduplicate as equal.
    """
    depth: Tuple[int, ...]
    kernel_size: Tuple[Tuple[int, ...], ...]
    expand_ratio: Tuple[Tuple[Number, ...], ...]
    resolution: Optional[int] = None

    # ------------------------------------------------------------ checks
    per_stage_fields = ('depth', 'kernel_size', 'expand_ratio')
    mmofa_fields = ('depth', 'kernel_size', 'expand_ratio')
    mmofa_space_fields = ('width_mult', )

    def checked_fields(self, space: MobileNetV3SearchSpace,
                       source: str) -> dict:
        depth = tuple(
            choice(d, space.depths[s], f'depth[{s}]', source, 'depths')
            for s, d in enumerate(self.depth))
        fields = dict(depth=depth, kernel_size=[], expand_ratio=[])
        for s in range(space.num_stages):
            for name, allowed, label in (('kernel_size', space.kernel_sizes[s],
                                          'kernel sizes'),
                                         ('expand_ratio',
                                          space.expand_ratios[s],
                                          'expand ratios')):
                fields[name].append(
                    check_per_block(
                        getattr(self, name)[s],
                        f'{name}[{s}]',
                        s,
                        depth[s],
                        allowed,
                        source,
                        label,
                        integer=name == 'kernel_size'))
        return dict(
            fields,
            kernel_size=tuple(fields['kernel_size']),
            expand_ratio=tuple(fields['expand_ratio']))

    # --------------------------------------------------- official dict
    @classmethod
    def from_arch_dict(cls,
                       arch: Mapping,
                       space: MobileNetV3SearchSpace,
                       source: str = 'arch dict') -> 'MobileNetV3Subnet':
        """From ``{'ks': [...], 'e': [...], 'd': [...]}`` (ints broadcast)."""
        allowed_keys = {'ks', 'e', 'd', 'r', 'image_size', 'resolution'}
        check_keys(arch, allowed_keys, {'ks', 'e', 'd'}, source)
        per_block = {
            key: arch_dict_list(arch, key, length, source)
            for key, length in (('ks', space.num_blocks),
                                ('e', space.num_blocks), ('d',
                                                          space.num_stages))
        }
        depth = tuple(
            choice(d, space.depths[s], f"'d'[{s}]", source, 'depths')
            for s, d in enumerate(per_block['d']))
        kernel_size, expand_ratio = [], []
        start = 0
        for s, max_depth in enumerate(space.max_depths):
            ks, es = [], []
            for b in range(max_depth):
                i = start + b
                where = f'[{i}] (stage {s}, block {b})'
                # Blocks past the depth are skipped but must still be valid.
                ks.append(
                    choice(
                        per_block['ks'][i],
                        space.kernel_sizes[s],
                        f"'ks'{where}",
                        source,
                        'kernel sizes',
                        integer=True))
                es.append(
                    choice(per_block['e'][i], space.expand_ratios[s],
                           f"'e'{where}", source, 'expand ratios'))
            kernel_size.append(tuple(ks[:depth[s]]))
            expand_ratio.append(tuple(es[:depth[s]]))
            start += max_depth
        return cls(
            depth, tuple(kernel_size), tuple(expand_ratio),
            optional_resolution(
                arch_dict_resolution(arch, source), source,
                space.min_resolution))

    def to_arch_dict(self, space: MobileNetV3SearchSpace) -> dict:
        """The official arch dict; skipped blocks get the smallest choices."""
        ks, e = [], []
        for s, max_depth in enumerate(space.max_depths):
            pad = max_depth - self.depth[s]
            ks += list(self.kernel_size[s]) + [space.kernel_sizes[s][0]] * pad
            e += list(self.expand_ratio[s]) + [space.expand_ratios[s][0]] * pad
        arch = {'ks': ks, 'e': e, 'd': list(self.depth)}
        return self.sized(arch, 'image_size')

    # ---------------------------------------------------- MMRazor YAML
    @classmethod
    def from_mmrazor(cls,
                     data: Mapping,
                     space: MobileNetV3SearchSpace,
                     source: str = 'MMRazor subnet') -> 'MobileNetV3Subnet':
        """From MMRazor's ``{alias: {'chosen': value}}`` mapping.

        ``backbone.layers.1`` is the fixed first block, ``layers.2`` to
        ``layers.6`` the elastic stages. Blocks past a stage's depth may be
        present. ``out_channels``, ``first_channels`` and ``last_channels``
        must equal the supernet's fixed widths. ``expand_ratio_se`` of an
        active block must agree with its ``expand_ratio``.
        """
        values = {}
        for key, item in data.items():
            if not isinstance(item, Mapping) or set(item) != {'chosen'}:
                raise SubnetError(f'{source}: {key}: expected a mapping '
                                  f"{{chosen: value}}, got {item!r}")
            values[key] = item['chosen']
        layers = {}  # layer index -> {'depth': .., blocks: {b: {attr: v}}}
        resolution = None
        for key, value in values.items():
            match = _MMRAZOR_BLOCK.match(key) or _MMRAZOR_LAYER.match(key)
            if match is None:
                if key == 'backbone.first_channels':
                    _fixed(value, space.first_channels, key, source)
                elif key == 'backbone.last_channels':
                    _fixed(value, space.last_channels, key, source)
                elif key == 'input_shape':
                    resolution = _square(value, key, source)
                else:
                    raise SubnetError(
                        f'{source}: unknown key {key!r}; allowed: '
                        'backbone.layers.{i}.depth, '
                        'backbone.layers.{i}.out_channels, '
                        'backbone.layers.{i}.{k}.kernel_size / expand_ratio '
                        '/ expand_ratio_se, backbone.first_channels, '
                        'backbone.last_channels, input_shape')
                continue
            layer = int(match['layer'])
            if not 1 <= layer <= space.num_stages + 1:
                raise SubnetError(
                    f'{source}: {key}: layer {layer} does not exist; layers '
                    f'are 1 (fixed first block) to {space.num_stages + 1}')
            entry = layers.setdefault(layer, {'blocks': {}})
            if 'block' in match.groupdict():
                block = int(match['block'])
                entry['blocks'].setdefault(block,
                                           {})[match['attr']] = (key, value)
            else:
                entry[match['attr']] = (key, value)

        first = layers.pop(1, {'blocks': {}})
        for attr, expected in (('depth', 1), ('out_channels',
                                              space.first_block_channels)):
            if attr in first:
                _fixed(first[attr][1], expected, first[attr][0], source)
        for block, attrs in first['blocks'].items():
            expected = {
                'kernel_size': 3,
                'expand_ratio': 1,
                'expand_ratio_se': 1
            }
            for attr, (key, value) in attrs.items():
                if block != 0:
                    raise SubnetError(f'{source}: {key}: the fixed first '
                                      'layer has one block')
                _fixed(value, expected[attr], key, source)

        depth, kernel_size, expand_ratio = [], [], []
        for s in range(space.num_stages):
            layer = s + 2
            entry = layers.get(layer, {'blocks': {}})
            prefix = f'backbone.layers.{layer}'
            if 'depth' not in entry:
                raise SubnetError(
                    f'{source}: {prefix}.depth is missing (stage '
                    f'{s}); allowed: {list(space.depths[s])}')
            d = choice(entry['depth'][1], space.depths[s], entry['depth'][0],
                       source, 'depths')
            if 'out_channels' in entry:
                _fixed(entry['out_channels'][1], space.stage_out_channels[s],
                       entry['out_channels'][0], source)
            ks, es = [], []
            for block, attrs in sorted(entry['blocks'].items()):
                if block >= space.max_depths[s]:
                    raise SubnetError(
                        f'{source}: {prefix}.{block}: stage {s} has '
                        f'{space.max_depths[s]} blocks (0 to '
                        f'{space.max_depths[s] - 1})')
                checked = {}
                for attr, (key, value) in attrs.items():
                    if attr == 'kernel_size':
                        checked[attr] = choice(
                            value,
                            space.kernel_sizes[s],
                            key,
                            source,
                            'kernel sizes',
                            integer=True)
                    else:
                        checked[attr] = choice(value, space.expand_ratios[s],
                                               key, source, 'expand ratios')
                if block >= d:
                    continue
                for attr in ('kernel_size', 'expand_ratio'):
                    if attr not in checked:
                        raise SubnetError(
                            f'{source}: {prefix}.{block}.{attr} is missing '
                            f'for active block {block} of stage {s} (depth '
                            f'{d})')
                if 'expand_ratio_se' in checked:
                    _check_se_ratio(space, s, block, checked,
                                    f'{prefix}.{block}.expand_ratio_se',
                                    source)
                ks.append(checked['kernel_size'])
                es.append(checked['expand_ratio'])
            depth.append(d)
            kernel_size.append(tuple(ks))
            expand_ratio.append(tuple(es))
        extra = sorted(set(layers) - set(range(2, space.num_stages + 2)))
        if extra:
            raise SubnetError(f'{source}: unknown layers {extra}')
        return cls(
            tuple(depth), tuple(kernel_size), tuple(expand_ratio),
            optional_resolution(resolution, source))

    def to_mmrazor(self, space: MobileNetV3SearchSpace) -> dict:
        """MMRazor's alias mapping, every block of every stage included,
        ``input_shape`` always (224 for a subnet without a resolution).

        Raises:
            SubnetError: The resolution is not one of MMRazor's sizes.
        """
        chosen = {
            'backbone.first_channels': space.first_channels,
            'backbone.last_channels': space.last_channels,
            'backbone.layers.1.0.expand_ratio': 1,
            'backbone.layers.1.0.kernel_size': 3,
            'backbone.layers.1.depth': 1,
            'backbone.layers.1.out_channels': space.first_block_channels,
        }
        arch = self.to_arch_dict(space)
        start = 0
        for s, max_depth in enumerate(space.max_depths):
            prefix = f'backbone.layers.{s + 2}'
            for b in range(max_depth):
                chosen[f'{prefix}.{b}.kernel_size'] = arch['ks'][start + b]
                chosen[f'{prefix}.{b}.expand_ratio'] = arch['e'][start + b]
                if space.stage_use_se[s]:
                    chosen[f'{prefix}.{b}.expand_ratio_se'] = \
                        arch['e'][start + b]
            chosen[f'{prefix}.depth'] = self.depth[s]
            chosen[f'{prefix}.out_channels'] = space.stage_out_channels[s]
            start += max_depth
        # MMRazor's subnet loader needs input_shape, one of its sizes.
        resolution = self.resolution or MMRAZOR_DEFAULT_RESOLUTION
        if resolution not in MMRAZOR_RESOLUTIONS:
            raise SubnetError(
                f'resolution {resolution} cannot be written for MMRazor: '
                "its OFA supernet's input_shape takes "
                f'{list(MMRAZOR_RESOLUTIONS)}')
        chosen['input_shape'] = [resolution, resolution]
        return {
            key: {
                'chosen': value
            }
            for key, value in sorted(chosen.items())
        }


SubnetLike = Union[MobileNetV3Subnet, Mapping, str, Path]
# input_sizes of MMRazor 1.0's OFA supernet config (its input resizer).
MMRAZOR_RESOLUTIONS = (128, 140, 144, 152, 192, 204, 224, 256)
MMRAZOR_DEFAULT_RESOLUTION = 224

_MMRAZOR_BLOCK = re.compile(r'^backbone\.layers\.(?P<layer>\d+)\.'
                            r'(?P<block>\d+)\.(?P<attr>kernel_size|'
                            r'expand_ratio_se|expand_ratio)$')
_MMRAZOR_LAYER = re.compile(
    r'^backbone\.layers\.(?P<layer>\d+)\.(?P<attr>depth|out_channels)$')


def _fixed(value, expected, key: str, source: str) -> None:
    if not is_number(value) or value != expected:
        raise SubnetError(f'{source}: {key} = {value!r} but this supernet '
                          f'has {expected} there (fixed); was the file made '
                          'for another width or architecture?')


def _square(value, key: str, source: str) -> int:
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or value[0] != value[1]):
        raise SubnetError(f'{source}: {key} = {value!r} must be a square '
                          'size [s, s]')
    return value[0]


def _check_se_ratio(space: MobileNetV3SearchSpace, stage: int, block: int,
                    checked: dict, key: str, source: str) -> None:
    """``expand_ratio_se`` must describe the same block as ``expand_ratio``.

    MMRazor writes it next to ``expand_ratio``. With squeeze-excitation it
    must give the same SE width; without, it must be the same value.
    """
    ratio, se_ratio = checked['expand_ratio'], checked['expand_ratio_se']
    if not space.stage_use_se[stage]:
        if se_ratio != ratio:
            raise SubnetError(
                f'{source}: {key} = {se_ratio!r} differs from expand_ratio = '
                f'{ratio!r} in stage {stage}, which has no '
                'squeeze-excitation')
        return
    in_channels = space.block_in_channels(stage, block)

    def se_width(value):
        return se_mid_channels(expanded_width(in_channels, value))

    if se_width(se_ratio) != se_width(ratio):
        raise SubnetError(
            f'{source}: {key} = {se_ratio!r} gives a squeeze-excitation of '
            f'{se_width(se_ratio)} channels, but expand_ratio = {ratio!r} '
            f'gives {se_width(ratio)}; they must agree')


def detect_format(data: Any, source: str) -> str:
    """``'mmrazor'``, ``'arch_dict'`` or ``'mmofa'``."""
    if not isinstance(data, Mapping) or not data:
        raise SubnetError(f'{source}: a subnet is a non-empty mapping, got '
                          f'{type(data).__name__}: {data!r}')
    keys = [str(k) for k in data]
    if any(k.startswith('backbone.') or k == 'input_shape' for k in keys):
        return 'mmrazor'
    if {'ks', 'e', 'd'} & set(keys):
        return 'arch_dict'
    if {'depth', 'kernel_size', 'expand_ratio'} & set(keys):
        return 'mmofa'
    shown = ', '.join(keys[:5]) + (', ...' if len(keys) > 5 else '')
    raise SubnetError(
        f'{source}: not a subnet in a known format (keys: {shown}); expected '
        "the official arch dict (ks, e, d), MMRazor's "
        '{alias: {chosen: value}} or mmofa (depth, kernel_size, expand_ratio)')


def parse_mobilenet_v3_subnet(subnet: SubnetLike,
                              space: MobileNetV3SearchSpace,
                              source: Optional[str] = None
                              ) -> MobileNetV3Subnet:
    """A checked subnet from any of the three formats, a dict or a file."""
    if isinstance(subnet, MobileNetV3Subnet):
        return subnet.checked(space, source or 'subnet')
    subnet, source = load_subnet_data(subnet, source)
    parser = {
        'mmrazor': MobileNetV3Subnet.from_mmrazor,
        'arch_dict': MobileNetV3Subnet.from_arch_dict,
        'mmofa': MobileNetV3Subnet.from_mmofa,
    }[detect_format(subnet, source)]
    return parser(subnet, space, source)


#: Format name -> the ``MobileNetV3Subnet`` method that writes it.
SUBNET_FORMATS = dict(
    mmofa='to_mmofa', mmrazor='to_mmrazor', arch_dict='to_arch_dict')

#: The family's subnet files: formats, parsing and writing.
MOBILENET_V3_SUBNETS = SubnetFormats(SUBNET_FORMATS, parse_mobilenet_v3_subnet,
                                     'an OFA MobileNetV3')
#: ``dump_mobilenet_v3_subnet(subnet, space, fmt='mmofa')``: ``subnet`` in
#: format ``fmt``.
dump_mobilenet_v3_subnet = MOBILENET_V3_SUBNETS.dump
