"""One subnet of the OFA ResNet50 space, in and out of its two formats.

The space (official ``ofa_resnet50``): an input stem of three 3x3 convs
whose middle one is a skippable residual conv, then four stages of
bottlenecks with ``base_depths[s] + d`` blocks (``d`` from the depth list),
an expand ratio per block and a width multiplier for the stem's first convs,
for its output and for each stage.

* the official arch dict: ``{'d': [5], 'e': [18], 'w': [6]}``: ``d[0]`` is
  the input stem (its residual conv runs when it is the largest depth),
  ``d[1:]`` the extra blocks of each stage; ``e`` one expand ratio per block
  of the supernet (skipped blocks included); ``w`` indices into the width
  multipliers: stem convs 1-2, stem conv 3, the four stages. An optional
  resolution (``image_size``, ``r`` or ``resolution``).
* mmofa's own YAML: the same depth and width lists (widths as values, not
  indices) and the expand ratios of the active blocks only::

      depth: [2, 1, 0, 2, 1]          # input stem, then extra blocks per stage
      expand_ratio: [[0.25, 0.35, 0.2], [0.2, 0.2], ...]
      width_mult: [1.0, 0.8, 0.65, 0.8, 1.0, 1.0]
      resolution: 224                 # optional

Every error names the key, the value, what was allowed and the source.
"""
from dataclasses import dataclass
from numbers import Number
from pathlib import Path
from typing import Mapping, Optional, Tuple, Union

from mmofa.utils import make_divisible
from .subnet_base import (Subnet, SubnetError, SubnetFormats, arch_dict_list,
                          arch_dict_resolution, check_keys, choice,
                          load_subnet_data)

RESNET50_BASE_DEPTHS = (2, 2, 4, 2)
RESNET50_STAGE_WIDTHS = (256, 512, 1024, 2048)
RESNET50_STEM_WIDTH = 64
RESNET50_STAGE_STRIDES = (1, 2, 2, 2)


def bottleneck_width(out_channels: int, expand_ratio: Number) -> int:
    """Middle width of a bottleneck, from its *output* width:
    ``make_divisible(round(out * e), 8)``."""
    return make_divisible(round(out_channels * expand_ratio), 8)


@dataclass(frozen=True)
class ResNetSearchSpace:
    """What an OFA ResNet supernet can run.

    Attributes:
        depths: Candidates of the depth setting (extra blocks per stage over
            ``base_depths``; for the input stem, the largest runs its
            residual conv and any other skips it).
        expand_ratios: Candidate expand ratios of every block.
        width_mults: Candidate width multipliers of every width setting.
        base_depths: Blocks of each stage at depth setting 0.
        stem_width (int): Base output width of the input stem.
        stage_widths: Base output width of each stage.
        stage_strides: Stride of each stage's first block.
        min_resolution (int): Smallest input side, the total stride.
    """
    depths: Tuple[int, ...]
    expand_ratios: Tuple[Number, ...]
    width_mults: Tuple[Number, ...]
    base_depths: Tuple[int, ...] = RESNET50_BASE_DEPTHS
    stem_width: int = RESNET50_STEM_WIDTH
    stage_widths: Tuple[int, ...] = RESNET50_STAGE_WIDTHS
    stage_strides: Tuple[int, ...] = RESNET50_STAGE_STRIDES
    min_resolution: int = 32

    @property
    def num_stages(self) -> int:
        return len(self.base_depths)

    @property
    def max_depths(self) -> Tuple[int, ...]:
        """Blocks of each stage in the supernet."""
        return tuple(d + max(self.depths) for d in self.base_depths)

    @property
    def num_blocks(self) -> int:
        """Blocks in the supernet (18 for ResNet50 with depths 0-2)."""
        return sum(self.max_depths)

    def stem_out_channels(self, width_mult: Number) -> int:
        """Output width of the stem's last conv."""
        return make_divisible(self.stem_width * width_mult, 8)

    def stem_mid_channels(self, width_mult: Number) -> int:
        """Width of the stem's first conv and residual conv."""
        return make_divisible(self.stem_out_channels(width_mult) // 2, 8)

    def stage_out_channels(self, stage: int, width_mult: Number) -> int:
        return make_divisible(self.stage_widths[stage] * width_mult, 8)

    def stem_residual(self, stem_depth: int) -> bool:
        """Whether the stem's residual conv runs at depth setting ``d[0]``."""
        return stem_depth == max(self.depths)


@dataclass(frozen=True)
class ResNetSubnet(Subnet):
    """The active part of an OFA ResNet and, optionally, a resolution.

    ``depth`` has ``1 + num_stages`` entries (input stem first; the stem's
    is kept as the smallest or the largest depth, the only two networks it
    can give), ``expand_ratio[s]`` one entry per active block of stage ``s``
    (``base_depths[s] + depth[s + 1]``), ``width_mult`` ``2 + num_stages``
    values (stem convs 1-2, stem conv 3, stages). Hashable.
    """
    depth: Tuple[int, ...]
    expand_ratio: Tuple[Tuple[Number, ...], ...]
    width_mult: Tuple[Number, ...]
    resolution: Optional[int] = None

    @property
    def stem_depth(self) -> int:
        return self.depth[0]

    @property
    def stage_depths(self) -> Tuple[int, ...]:
        return self.depth[1:]

    mmofa_fields = ('depth', 'expand_ratio', 'width_mult')

    def checked_fields(self, space: ResNetSearchSpace, source: str) -> dict:
        lengths = dict(
            depth=1 + space.num_stages,
            expand_ratio=space.num_stages,
            width_mult=2 + space.num_stages)
        for name, length in lengths.items():
            value = getattr(self, name)
            if not isinstance(value, (list, tuple)) or len(value) != length:
                raise SubnetError(
                    f'{source}: {name} = {value!r} must be a list of '
                    f'{length} entries ({_SLOTS[name]})')
        depth = [
            choice(d, space.depths, f'depth[{i}]', source, 'depths', True)
            for i, d in enumerate(self.depth)
        ]
        depth[0] = (
            max(space.depths)
            if space.stem_residual(depth[0]) else min(space.depths))
        width_mult = tuple(
            choice(w, space.width_mults, f'width_mult[{i}]', source,
                   'width multipliers') for i, w in enumerate(self.width_mult))
        expand_ratio = []
        for s, blocks in enumerate(self.expand_ratio):
            count = space.base_depths[s] + depth[s + 1]
            if not isinstance(blocks, (list, tuple)) or len(blocks) != count:
                raise SubnetError(
                    f'{source}: expand_ratio[{s}] = {blocks!r} must be a list '
                    f'of {count} values (one per active block: base depth '
                    f'{space.base_depths[s]} + depth[{s + 1}] = '
                    f'{depth[s + 1]})')
            expand_ratio.append(
                tuple(
                    choice(e, space.expand_ratios, f'expand_ratio[{s}][{b}]',
                           source, 'expand ratios')
                    for b, e in enumerate(blocks)))
        return dict(
            depth=tuple(depth),
            expand_ratio=tuple(expand_ratio),
            width_mult=width_mult)

    # --------------------------------------------------- official dict
    @classmethod
    def from_arch_dict(cls,
                       arch: Mapping,
                       space: ResNetSearchSpace,
                       source: str = 'arch dict') -> 'ResNetSubnet':
        """From ``{'d': [...], 'e': [...], 'w': [...]}`` (numbers broadcast,
        as in the official ``set_active_subnet``)."""
        check_keys(arch, {'d', 'e', 'w', 'r', 'image_size', 'resolution'},
                   {'d', 'e', 'w'}, source)
        values = {
            key: arch_dict_list(arch, key, length, source)
            for key, length in (('d', 1 + space.num_stages),
                                ('e', space.num_blocks),
                                ('w', 2 + space.num_stages))
        }
        depth = [
            choice(d, space.depths, f"'d'[{i}]", source, 'depths', True)
            for i, d in enumerate(values['d'])
        ]
        indices = range(len(space.width_mults))
        width_mult = tuple(space.width_mults[choice(
            w, indices, f"'w'[{i}]", source,
            f'indices into the width multipliers {list(space.width_mults)}',
            True)] for i, w in enumerate(values['w']))
        expand_ratio, start = [], 0
        for s, max_depth in enumerate(space.max_depths):
            # Blocks past the depth are skipped but must still be valid.
            es = [
                choice(values['e'][start + b], space.expand_ratios,
                       f"'e'[{start + b}] (stage {s}, block {b})", source,
                       'expand ratios') for b in range(max_depth)
            ]
            expand_ratio.append(
                tuple(es[:space.base_depths[s] + depth[s + 1]]))
            start += max_depth
        return cls(
            tuple(depth), tuple(expand_ratio), width_mult,
            arch_dict_resolution(arch, source)).checked(space, source)

    def to_arch_dict(self, space: ResNetSearchSpace) -> dict:
        """The official arch dict; skipped blocks get the smallest ratio."""
        e = []
        for s, max_depth in enumerate(space.max_depths):
            pad = max_depth - len(self.expand_ratio[s])
            e += list(self.expand_ratio[s]) + [space.expand_ratios[0]] * pad
        arch = {
            'd': list(self.depth),
            'e': e,
            'w': [space.width_mults.index(w) for w in self.width_mult],
        }
        return self.sized(arch, 'image_size')


_SLOTS = dict(
    depth='input stem, then one per stage',
    expand_ratio='one list per stage',
    width_mult='stem convs 1-2, stem conv 3, then one per stage')

#: Format name -> the ``ResNetSubnet`` method that writes it.
RESNET_SUBNET_FORMATS = dict(mmofa='to_mmofa', arch_dict='to_arch_dict')
ResNetSubnetLike = Union[ResNetSubnet, Mapping, str, Path]


def parse_resnet_subnet(subnet: ResNetSubnetLike,
                        space: ResNetSearchSpace,
                        source: Optional[str] = None) -> ResNetSubnet:
    """A checked subnet from an arch dict, an mmofa mapping or a file."""
    if isinstance(subnet, ResNetSubnet):
        return subnet.checked(space, source or 'subnet')
    subnet, source = load_subnet_data(subnet, source)
    if not isinstance(subnet, Mapping) or not subnet:
        raise SubnetError(f'{source}: a subnet is a non-empty mapping, got '
                          f'{type(subnet).__name__}: {subnet!r}')
    keys = set(map(str, subnet))
    if keys & {'d', 'e', 'w'}:
        return ResNetSubnet.from_arch_dict(subnet, space, source)
    if keys & {'depth', 'expand_ratio', 'width_mult'}:
        return ResNetSubnet.from_mmofa(subnet, space, source)
    raise SubnetError(
        f'{source}: not an OFA ResNet subnet (keys: {sorted(keys)}); '
        'expected the official arch dict (d, e, w) or mmofa (depth, '
        'expand_ratio, width_mult)')


#: The family's subnet files: formats, parsing and writing.
RESNET_SUBNETS = SubnetFormats(RESNET_SUBNET_FORMATS, parse_resnet_subnet,
                               'an OFA ResNet')
#: ``dump_resnet_subnet(subnet, space, fmt='mmofa')``: ``subnet`` in format
#: ``fmt``.
dump_resnet_subnet = RESNET_SUBNETS.dump
