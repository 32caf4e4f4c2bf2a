"""One subnet of the CVPR 2022 NAS track 1 ResNet-48 space, in and out.

The space: a ResNet of basic blocks, 4 stages of up to 5, 5, 8 and 5 blocks
(depths 2-5, stage 3: 2-8), every conv's output width a ratio of
``(1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7)`` of the stage's base width
(64, 128, 256, 512), made a multiple of 8.

Formats:

* the track's architecture code, 51 digits: 4 stage depths, the stem's ratio
  digit, then 2 digits per block (its first conv, its second conv) for all
  23 blocks, ``00`` for blocks past the stage's depth; ratio digit ``k``
  means the k-th ratio (1 = 1.0, ..., 7 = 0.7). The track's released JSON
  writes 52 digits: a resolution digit first (1 = 224 px);
* one entry of that JSON, ``{'arch': code, 'acc': accuracy}``;
* mmofa's mapping::

      depth: [2, 5, 2, 2]
      out_ratio: [0.9, 0.95, 0.85, 0.8]   # block outputs of each stage
      mid_ratio: [[0.9, 1.0], [...], ...]  # first conv of each active block
      resolution: 224                      # optional

Blocks joined by identity shortcuts add their outputs, so all blocks of a
stage share one output width (stage 1 also with the stem, whose output is
its first shortcut). In the code, the second digits of a stage's blocks (and
in stage 1 the stem digit) are therefore equal, as in every released code.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Tuple, Union

from mmofa.utils import make_divisible
from .subnet_base import (StagedSearchSpace, Subnet, SubnetError,
                          SubnetFormats, check_keys, check_per_block, choice,
                          is_int, read_subnet_file)

TRACK_CHANNEL_RATIOS = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7)
TRACK_DEPTHS = ((2, 3, 4, 5), (2, 3, 4, 5), (2, 3, 4, 5, 6, 7, 8), (2, 3, 4,
                                                                    5))
RESNET48_BASE_CHANNELS = (64, 128, 256, 512)
RESNET48_STAGE_STRIDES = (1, 2, 2, 2)


def has_downsample(in_channels: int, out_channels: int, stride: int) -> bool:
    """Whether a basic block's shortcut needs a 1x1 conv + BN."""
    return stride != 1 or in_channels != out_channels


# The first digit of the 52-digit codes of the track's JSON files.
TRACK_RESOLUTIONS = (224, )
#: Format name -> the ``ResNet48Subnet`` method that writes it.
RESNET48_SUBNET_FORMATS = dict(
    mmofa='to_mmofa', arch_code='to_arch_code', track_arch='to_track_arch')


def channel_width(base_channels: int, ratio: float) -> int:
    """Width of a conv: ``make_divisible(base * ratio, 8)``."""
    return make_divisible(base_channels * ratio, 8)


@dataclass(frozen=True)
class ResNet48SearchSpace(StagedSearchSpace):
    """What an elastic ResNet-48 supernet can run.

    Attributes:
        depths: Candidate depths of each stage.
        channel_ratios: Candidate width ratios of every conv, largest first;
            ratio ``channel_ratios[k - 1]`` is code digit ``k``.
        base_channels: The full width of each stage (the stem has the first).
        min_resolution (int): Smallest input side (the total stride).
    """
    depths: Tuple[Tuple[int, ...], ...] = TRACK_DEPTHS
    channel_ratios: Tuple[float, ...] = TRACK_CHANNEL_RATIOS
    base_channels: Tuple[int, ...] = RESNET48_BASE_CHANNELS
    min_resolution: int = 32

    def __post_init__(self):
        if len(self.depths) != len(self.base_channels):
            raise ValueError(
                f'{len(self.depths)} stages of depths but '
                f'{len(self.base_channels)} base widths: {self.base_channels}')
        bad = [d for ds in self.depths for d in ds if not 1 <= d <= 9]
        if bad or not 1 <= len(self.channel_ratios) <= 9:
            raise ValueError(
                'the arch code has one digit per depth and per ratio: depths '
                f'must be 1-9 (got {bad}) and there may be 1-9 ratios (got '
                f'{len(self.channel_ratios)})')
        if list(self.channel_ratios) != sorted(
                self.channel_ratios, reverse=True):
            raise ValueError('channel_ratios must be listed largest first '
                             f'(digit 1 = largest), got {self.channel_ratios}')

    @property
    def code_length(self) -> int:
        """Digits of an arch code: depths, stem, two per block (51)."""
        return self.num_stages + 1 + 2 * self.num_blocks

    def width(self, stage: int, ratio: float) -> int:
        """Channels of a conv of ``stage`` (0-based) at ``ratio``."""
        return channel_width(self.base_channels[stage], ratio)

    def ratio_digit(self, ratio: float) -> str:
        return str(self.channel_ratios.index(ratio) + 1)

    def digit_ratio(self, digit: str, where: str, source: str) -> float:
        number = int(digit)
        if not 1 <= number <= len(self.channel_ratios):
            allowed = ', '.join(f'{k + 1} = {r}'
                                for k, r in enumerate(self.channel_ratios))
            raise SubnetError(f'{source}: {where} is {digit}, not a channel '
                              f'ratio digit; allowed: {allowed}')
        return self.channel_ratios[number - 1]


@dataclass(frozen=True)
class ResNet48Subnet(Subnet):
    """The active blocks of an elastic ResNet-48 and, optionally, a size.

    ``out_ratio[s]`` is the output width ratio of every block of stage ``s``
    (and of the stem for ``s = 0``); ``mid_ratio[s]`` holds one ratio per
    active block, the output of its first conv. Hashable.
    """
    depth: Tuple[int, ...]
    out_ratio: Tuple[float, ...]
    mid_ratio: Tuple[Tuple[float, ...], ...]
    resolution: Optional[int] = None

    per_stage_fields = ('depth', 'out_ratio', 'mid_ratio')
    mmofa_fields = ('depth', 'out_ratio', 'mid_ratio')
    mmofa_space_fields = ('base_channels', )

    def checked_fields(self, space: ResNet48SearchSpace, source: str) -> dict:
        ratios = space.channel_ratios
        depth = tuple(
            choice(d, space.depths[s], f'depth[{s}]', source, 'depths')
            for s, d in enumerate(self.depth))
        return dict(
            depth=depth,
            out_ratio=tuple(
                choice(r, ratios, f'out_ratio[{s}]', source, 'channel ratios')
                for s, r in enumerate(self.out_ratio)),
            mid_ratio=tuple(
                check_per_block(blocks, f'mid_ratio[{s}]', s, depth[s], ratios,
                                source, 'channel ratios')
                for s, blocks in enumerate(self.mid_ratio)))

    # -------------------------------------------------------- arch code
    @classmethod
    def from_arch_code(cls,
                       code: Union[str, int],
                       space: ResNet48SearchSpace,
                       source: str = 'arch code') -> 'ResNet48Subnet':
        """From the track's code (51 digits, or 52 with the resolution
        digit first as in its JSON files)."""
        if is_int(code):  # YAML and JSON read an unquoted code as a number
            code = str(code)
        if not isinstance(code, str):
            raise SubnetError(f'{source}: an arch code is a string of '
                              f'digits, got {type(code).__name__}: {code!r}')
        code = code.strip()
        for position, char in enumerate(code, 1):
            if char not in '0123456789':
                raise SubnetError(f'{source}: arch code {code!r} has {char!r}'
                                  f' at digit {position}; only digits 0-9 '
                                  'are allowed')
        length = space.code_length
        resolution = None
        if len(code) == length + 1:
            digit = int(code[0])
            if not 1 <= digit <= len(TRACK_RESOLUTIONS):
                raise SubnetError(
                    f'{source}: the first of 52 digits is the resolution '
                    f'digit, got {digit}; allowed: 1 (= 224 px)')
            resolution = TRACK_RESOLUTIONS[digit - 1]
            code = code[1:]
        elif len(code) != length:
            raise SubnetError(
                f'{source}: arch code {code!r} has {len(code)} digits; '
                f'expected {length} ({space.num_stages} stage depths, the '
                f'stem ratio, 2 per block for {space.num_blocks} blocks) or '
                f'{length + 1} with the resolution digit first, as in the '
                "track's JSON files")
        num_stages = space.num_stages
        depth = tuple(
            choice(
                int(code[s]), space.depths[s],
                f'digit {s + 1} (depth of stage {s + 1})', source, 'depths')
            for s in range(num_stages))
        out_ratio = [
            space.digit_ratio(code[num_stages],
                              f'digit {num_stages + 1} (stem ratio)', source)
        ]
        mid_ratio = []
        position = num_stages + 1
        for s, max_depth in enumerate(space.max_depths):
            mids = []
            for b in range(max_depth):
                pair = code[position:position + 2]
                where = (f'digits {position + 1}-{position + 2} (stage '
                         f'{s + 1}, block {b + 1})')
                position += 2
                if b >= depth[s]:
                    if pair != '00':
                        raise SubnetError(
                            f'{source}: {where} are {pair}, but the stage '
                            f'has depth {depth[s]}: blocks past the depth '
                            'must be 00')
                    continue
                if '0' in pair:
                    raise SubnetError(
                        f'{source}: {where} are {pair}, but block {b + 1} '
                        f'is active (stage depth {depth[s]}): each digit '
                        f'must be a ratio digit 1-{len(space.channel_ratios)}')
                block = f'stage {s + 1}, block {b + 1}'
                mids.append(
                    space.digit_ratio(
                        pair[0], f'digit {position - 1} ({block}, conv1)',
                        source))
                block_out = space.digit_ratio(
                    pair[1], f'digit {position} ({block}, conv2)', source)
                if s > 0 and b == 0:
                    out_ratio.append(block_out)
                elif block_out != out_ratio[s]:
                    expected = space.ratio_digit(out_ratio[s])
                    first = ('the stem digit'
                             if s == 0 else f'block 1 of stage {s + 1}')
                    raise SubnetError(
                        f'{source}: {where}: the second digit is '
                        f'{pair[1]} but {first} has {expected}; blocks '
                        'joined by identity shortcuts share one output '
                        'width, so the second digits of a stage (in stage '
                        '1 also the stem digit) must be equal')
            mid_ratio.append(tuple(mids))
        return cls(depth, tuple(out_ratio), tuple(mid_ratio), resolution)

    def to_arch_code(self, space: ResNet48SearchSpace) -> str:
        """The 51-digit code of the track's task definition."""
        digits = [str(d) for d in self.depth]
        digits.append(space.ratio_digit(self.out_ratio[0]))
        for s, max_depth in enumerate(space.max_depths):
            out_digit = space.ratio_digit(self.out_ratio[s])
            for b in range(max_depth):
                digits.append(
                    space.ratio_digit(self.mid_ratio[s][b]) +
                    out_digit if b < self.depth[s] else '00')
        return ''.join(digits)

    def to_track_arch(self, space: ResNet48SearchSpace) -> str:
        """The ``arch`` string of the track's JSON: resolution digit + code.

        Only 224 px has a digit (1); a subnet without a resolution is 224.
        """
        resolution = self.resolution or TRACK_RESOLUTIONS[0]
        if resolution not in TRACK_RESOLUTIONS:
            raise SubnetError(
                f'resolution {resolution} has no digit in the track code; '
                f'allowed: {list(TRACK_RESOLUTIONS)}')
        return str(TRACK_RESOLUTIONS.index(resolution) + 1) + \
            self.to_arch_code(space)


ResNet48SubnetLike = Union[ResNet48Subnet, Mapping, str, int, Path]


def _is_path(text: str) -> bool:
    """Whether a string names a file rather than holding an arch code."""
    path = Path(text)
    return bool(path.suffix) or '/' in text or '\\' in text or path.is_file()


def parse_resnet48_subnet(subnet: ResNet48SubnetLike,
                          space: ResNet48SearchSpace,
                          source: Optional[str] = None) -> ResNet48Subnet:
    """A checked subnet from an arch code, a track JSON entry, a mapping or
    a YAML/JSON file of any of these. A string with a file suffix or a path
    separator, or naming a file, is a file; any other string a code."""
    if isinstance(subnet, ResNet48Subnet):
        return subnet.checked(space, source or 'subnet')
    if is_int(subnet) or (isinstance(subnet, str) and not _is_path(subnet)):
        return ResNet48Subnet.from_arch_code(subnet, space, source
                                             or 'arch code')
    if isinstance(subnet, (str, Path)):
        source = source or str(subnet)
        subnet = read_subnet_file(subnet)
        if is_int(subnet) or isinstance(subnet, str):
            return ResNet48Subnet.from_arch_code(subnet, space, source)
    source = source or 'subnet'
    if isinstance(subnet, Mapping) and 'arch' in subnet:
        check_keys(subnet, {'arch', 'acc'}, {'arch'}, source)
        return ResNet48Subnet.from_arch_code(subnet['arch'], space, source)
    if not isinstance(subnet, Mapping):
        raise SubnetError(
            f'{source}: a ResNet-48 subnet is an arch code, a mapping or a '
            f'file, got {type(subnet).__name__}: {subnet!r}')
    return ResNet48Subnet.from_mmofa(subnet, space, source)


#: The family's subnet files: formats, parsing and writing.
RESNET48_SUBNETS = SubnetFormats(RESNET48_SUBNET_FORMATS,
                                 parse_resnet48_subnet, 'a ResNet-48')
#: ``dump_resnet48_subnet(subnet, space, fmt='mmofa')``: ``subnet`` in format
#: ``fmt``.
dump_resnet48_subnet = RESNET48_SUBNETS.dump
