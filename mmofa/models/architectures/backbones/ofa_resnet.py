"""The Once-for-All ResNet50 supernet (official ``ofa_resnet50`` space).

Built at its largest size: a ResNet-D input stem (3x3 stride-2 conv, a
skippable residual 3x3 conv, 3x3 conv), max pooling, four stages of
``base_depth + max(depths)`` bottlenecks (2+2, 2+2, 4+2, 2+2 = 18 blocks
for depths 0-2) with average-pool + 1x1 conv shortcuts, and global average
pooling. Elastic: the depth of each stage and whether the stem's residual
conv runs; the expand ratio of each block, which sets its middle width from
its *output* width (``make_divisible(round(out * e), 8)``); the width
multiplier of the stem's first convs, of the stem's output and of each
stage (one for all blocks of a stage).

Mutables (alias: dimension):

* ``stem.depth``: depth (the residual conv runs at the largest value;
  random sampling draws the largest or the smallest allowed value, 1/2
  each, as the official sampler does),
  ``stem.conv1.width_mult`` and ``stem.conv3.width_mult``: width_mult;
* ``layer{s}.depth``: depth (extra blocks over the base depth),
  ``layer{s}.width_mult``: width_mult, for s = 1..4;
* ``layer{s}.{b}.expand_ratio``: expand_ratio.

The head must take the active width of the last stage: use
``mmofa.DropoutLinearClsHead`` with ``elastic_in_channels=True`` (the
official ``DynamicLinearLayer``).
"""
import math
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmofa.models.bricks import (ResidualBlock, global_avg_pool, max_pool,
                                 prefixed)
from mmofa.models.dynamic_ops import ElasticBatchNorm2d, ElasticConv2d
from mmofa.models.dynamic_ops.slicing import (importance_order, select_,
                                              select_bn_)
from mmofa.models.mutables import DerivedMutable, OneShotMutableValue
from mmofa.models.task_modules import ResNetResourceEstimator
from mmofa.models.utils import OFAInitMixin
from mmofa.registry import MODELS
from mmofa.structures import ResNetPopulationCodec
from mmofa.structures.resnet_subnet import (RESNET50_BASE_DEPTHS,
                                            RESNET50_STAGE_STRIDES,
                                            RESNET50_STAGE_WIDTHS,
                                            RESNET50_STEM_WIDTH,
                                            RESNET_SUBNETS, ResNetSearchSpace,
                                            ResNetSubnet, bottleneck_width)
from mmofa.structures.subnet_base import check_per_stage
from ..static.resnet import AvgPoolConvBN, ResNetBottleneck, ResNetStem
from .elastic_backbone import (ElasticBackbone, elastic_conv_bn, head_part,
                               stage_blocks_state)


class ElasticResNetBottleneck(ResidualBlock):
    """A bottleneck with elastic input, middle and output widths.

    Args:
        in_channels (int): Largest input width.
        out_channels (DerivedMutable): The active output width (the
            stage's width multiplier applied to its base width).
        stride (int): Stride of the 3x3 conv and of the shortcut.
        downsample (bool): A ResNet-D projection shortcut (first block of a
            stage); otherwise the identity.
        expand_ratios (Sequence[float]): Candidate expand ratios.
        alias (str): Prefix of the mutable's alias, e.g. ``'layer2.0'``.
        norm_cfg (dict, optional): Keyword arguments of the batch norms.
    """
    conv_names = ('conv1', 'conv2', 'conv3')

    def __init__(self,
                 in_channels: int,
                 out_channels: DerivedMutable,
                 stride: int,
                 downsample: bool,
                 expand_ratios: Sequence[float],
                 alias: str,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        self.out_channels = out_channels
        self.mutable_expand_ratio = OneShotMutableValue(
            expand_ratios, alias=f'{alias}.expand_ratio', dim='expand_ratio')
        max_out = max(out_channels.candidates)
        self.mid_widths = tuple(
            bottleneck_width(max_out, e) for e in expand_ratios)
        max_mid = max(self.mid_widths)
        self.conv1 = elastic_conv_bn(
            in_channels, max_mid, 1, act='relu', norm_cfg=norm_cfg)
        self.conv2 = elastic_conv_bn(
            max_mid, max_mid, 3, stride, act='relu', norm_cfg=norm_cfg)
        self.conv3 = elastic_conv_bn(max_mid, max_out, 1, norm_cfg=norm_cfg)
        if downsample:
            self.downsample = AvgPoolConvBN(
                ElasticConv2d(in_channels, max_out),
                ElasticBatchNorm2d(max_out, **(norm_cfg or {})), stride)

    @property
    def active_mid_channels(self) -> int:
        return bottleneck_width(self.out_channels.current_choice,
                                self.mutable_expand_ratio.current_choice)

    def active_widths(self, in_channels: int) -> Dict[str, Tuple[int, int]]:
        out_channels = self.out_channels.current_choice
        mid_channels = self.active_mid_channels
        return dict(
            conv1=(in_channels, mid_channels),
            conv2=(mid_channels, mid_channels),
            conv3=(mid_channels, out_channels),
            downsample=(in_channels, out_channels))

    @torch.no_grad()
    def reorganize_channels(self, expand_ratio_stage: int = 0) -> None:
        """Sort the middle channels by importance, output unchanged.

        As the official ``re_organize_middle_weights``: the 3x3 conv's
        outputs by the L1 norm of conv3's weights per input channel, then
        conv1's outputs by the L1 norm of the (sorted) 3x3 conv's weights
        per input channel; with ``expand_ratio_stage > 0`` no channel
        crosses the widths of the largest expand ratios.
        """
        for producer, consumer in ((self.conv2, self.conv3), (self.conv1,
                                                              self.conv2)):
            importance = consumer.conv.weight.abs().sum(dim=(0, 2, 3))
            order = importance_order(importance, self.mid_widths,
                                     expand_ratio_stage)
            select_(consumer.conv.weight, 1, order)
            select_bn_(producer.bn, order)
            select_(producer.conv.weight, 0, order)


class ElasticResNetStem(nn.Module):
    """The ResNet-D input stem with elastic widths and a skippable residual
    conv.

    Args:
        space (ResNetSearchSpace): The supernet's space: the candidate
            width multipliers and depths (the residual conv runs at the
            largest depth).
        norm_cfg (dict, optional): Keyword arguments of the batch norms.
    """

    def __init__(self,
                 space: ResNetSearchSpace,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        self.space = space
        # Drawn as the official sampler does: the largest or the smallest.
        self.mutable_depth = OneShotMutableValue(
            space.depths,
            alias='stem.depth',
            dim='depth',
            sample_extremes=True)
        self.mutable_mid_width = OneShotMutableValue(
            space.width_mults, alias='stem.conv1.width_mult', dim='width_mult')
        self.mutable_out_width = OneShotMutableValue(
            space.width_mults, alias='stem.conv3.width_mult', dim='width_mult')
        self.mid_channels = self.mutable_mid_width.derive(
            space.stem_mid_channels)
        self.out_channels = self.mutable_out_width.derive(
            space.stem_out_channels)
        max_mid = max(self.mid_channels.candidates)
        max_out = max(self.out_channels.candidates)
        self.conv1 = elastic_conv_bn(
            3, max_mid, 3, 2, act='relu', norm_cfg=norm_cfg)
        self.conv2 = elastic_conv_bn(
            max_mid, max_mid, 3, act='relu', norm_cfg=norm_cfg)
        self.conv3 = elastic_conv_bn(
            max_mid, max_out, 3, act='relu', norm_cfg=norm_cfg)

    @property
    def residual(self) -> bool:
        """Whether the residual conv runs in the active subnet."""
        return self.space.stem_residual(self.mutable_depth.current_choice)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mid_channels = self.mid_channels.current_choice
        x = self.conv1(x, out_channels=mid_channels)
        if self.residual:
            x = self.conv2(x, out_channels=mid_channels) + x
        return self.conv3(x, out_channels=self.out_channels.current_choice)

    def active_state_dict(self) -> Dict[str, torch.Tensor]:
        """Weights of the active stem for a static ``ResNetStem``."""
        mid, out = self.mid_channels.current_choice, \
            self.out_channels.current_choice
        layers = [('conv1', 3, mid), ('conv3', mid, out)]
        if self.residual:
            layers.insert(1, ('conv2', mid, mid))
        state = {}
        for name, in_channels, out_channels in layers:
            state.update(
                prefixed(
                    f'{name}.',
                    getattr(self, name).active_state_dict(
                        in_channels=in_channels, out_channels=out_channels)))
        return state


@MODELS.register_module()
class OFAResNet(OFAInitMixin, ElasticBackbone):
    """The elastic Once-for-All ResNet50 supernet.

    Args:
        depths (Sequence[int]): Candidate depth settings: extra blocks per
            stage over ``base_depths`` (and the stem's residual conv at the
            largest). Defaults to the official ``(0, 1, 2)``.
        expand_ratios (Sequence[float]): Candidate expand ratios of every
            block. Defaults to ``(0.2, 0.25, 0.35)``.
        width_mults (Sequence[float]): Candidate width multipliers.
            Defaults to ``(0.65, 0.8, 1.0)``.
        base_depths (Sequence[int]): Blocks per stage at depth 0. Defaults
            to ResNet50's ``(2, 2, 4, 2)``.
        stem_width (int): Base output width of the stem. Defaults to 64.
        stage_widths (Sequence[int]): Base output width of each stage.
            Defaults to ``(256, 512, 1024, 2048)``.
        stage_strides (Sequence[int]): Stride of each stage's first block.
            Defaults to ``(1, 2, 2, 2)``.
        **kwargs: ``norm_cfg`` and ``init_cfg`` of
            :class:`ElasticBackbone` (Once-for-All's batch norms and
            ``he_fout`` initialisation by default).

    Returns a one-element tuple: the ``(N, C)`` pooled features, ``C`` the
    active width of the last stage (:attr:`active_out_channels`).
    """
    subnets = RESNET_SUBNETS
    codec_class = ResNetPopulationCodec
    estimator_class = ResNetResourceEstimator

    def __init__(self,
                 depths: Sequence[int] = (0, 1, 2),
                 expand_ratios: Sequence[float] = (0.2, 0.25, 0.35),
                 width_mults: Sequence[float] = (0.65, 0.8, 1.0),
                 base_depths: Sequence[int] = RESNET50_BASE_DEPTHS,
                 stem_width: int = RESNET50_STEM_WIDTH,
                 stage_widths: Sequence[int] = RESNET50_STAGE_WIDTHS,
                 stage_strides: Sequence[int] = RESNET50_STAGE_STRIDES,
                 **kwargs):
        super().__init__(**kwargs)
        check_per_stage(
            dict(base_depths=base_depths, stage_widths=stage_widths),
            len(stage_strides), type(self).__name__, 'stage_strides',
            ValueError)
        if min(depths) + min(base_depths) < 1:
            raise ValueError(
                f'depths {list(depths)} with base_depths {list(base_depths)} '
                'leave a stage without blocks')
        norm_cfg = self.norm_cfg
        space = ResNetSearchSpace(
            depths=tuple(sorted(depths)),
            expand_ratios=tuple(sorted(expand_ratios)),
            width_mults=tuple(sorted(width_mults)),
            base_depths=tuple(base_depths),
            stem_width=stem_width,
            stage_widths=tuple(stage_widths),
            stage_strides=tuple(stage_strides),
            min_resolution=4 * math.prod(stage_strides))
        self.search_space = space
        self.num_stages = space.num_stages

        self.stem = ElasticResNetStem(space, norm_cfg)
        self.max_pool = max_pool()
        in_channels = max(self.stem.out_channels.candidates)
        self.stage_depths = nn.ModuleList()
        self.stage_widths = nn.ModuleList()
        for s in range(self.num_stages):
            name = f'layer{s + 1}'
            mutable_width = OneShotMutableValue(
                space.width_mults,
                alias=f'{name}.width_mult',
                dim='width_mult')
            out_channels = mutable_width.derive(
                lambda w, s=s: space.stage_out_channels(s, w))
            blocks = nn.ModuleList()
            for b in range(space.max_depths[s]):
                blocks.append(
                    ElasticResNetBottleneck(
                        in_channels,
                        out_channels,
                        stride=space.stage_strides[s] if b == 0 else 1,
                        downsample=b == 0,
                        expand_ratios=space.expand_ratios,
                        alias=f'{name}.{b}',
                        norm_cfg=norm_cfg))
                in_channels = max(out_channels.candidates)
            self.add_module(name, blocks)
            self.stage_widths.append(mutable_width)
            self.stage_depths.append(
                OneShotMutableValue(
                    space.depths, alias=f'{name}.depth', dim='depth'))

    def active_blocks(self, stage: int) -> int:
        """Number of blocks stage ``stage`` runs in the active subnet."""
        return (self.search_space.base_depths[stage] +
                self.stage_depths[stage].current_choice)

    @property
    def active_out_channels(self) -> int:
        """Width of the pooled features of the active subnet."""
        return self.stages[-1][0].out_channels.current_choice

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = self.max_pool(self.stem(x))
        for s, stage in enumerate(self.stages):
            for b in range(self.active_blocks(s)):
                x = stage[b](x)
        return (global_avg_pool(x).flatten(1), )

    # ------------------------------------------------------------ subnets
    def current_subnet(self) -> ResNetSubnet:
        """The active subnet, read from the mutables."""
        stem = self.stem
        depth = [stem.mutable_depth.current_choice]
        depth += [d.current_choice for d in self.stage_depths]
        expand_ratio = tuple(
            tuple(stage[b].mutable_expand_ratio.current_choice
                  for b in range(self.active_blocks(s)))
            for s, stage in enumerate(self.stages))
        width_mult = (stem.mutable_mid_width.current_choice,
                      stem.mutable_out_width.current_choice) + tuple(
                          w.current_choice for w in self.stage_widths)
        return ResNetSubnet(tuple(depth), expand_ratio,
                            width_mult).checked(self.search_space)

    def subnet_alias_choices(self, subnet: ResNetSubnet) -> dict:
        """Alias -> value of every mutable the (checked) subnet sets."""
        stem = self.stem
        choices = {
            stem.mutable_depth.alias: subnet.depth[0],
            stem.mutable_mid_width.alias: subnet.width_mult[0],
            stem.mutable_out_width.alias: subnet.width_mult[1],
        }
        for s, stage in enumerate(self.stages):
            choices[self.stage_depths[s].alias] = subnet.depth[s + 1]
            choices[self.stage_widths[s].alias] = subnet.width_mult[s + 2]
            for b, ratio in enumerate(subnet.expand_ratio[s]):
                choices[stage[b].mutable_expand_ratio.alias] = ratio
        return choices

    def export_config(self) -> dict:
        """Config of the :class:`StaticResNet` of the active subnet."""
        stem = self.stem
        return dict(
            type='mmofa.StaticResNet',
            stem_channels=[
                stem.mid_channels.current_choice,
                stem.out_channels.current_choice
            ],
            stem_residual=stem.residual,
            stage_channels=[
                stage[0].out_channels.current_choice for stage in self.stages
            ],
            mid_channels=[[
                stage[b].active_mid_channels
                for b in range(self.active_blocks(s))
            ] for s, stage in enumerate(self.stages)],
            stage_strides=list(self.search_space.stage_strides),
            norm_cfg=dict(self.norm_cfg))

    def export_state_dict(self) -> Dict[str, torch.Tensor]:
        """Sliced weights of the active subnet (copies), with the keys and
        shapes of the :class:`StaticResNet` of :meth:`export_config`."""
        state = prefixed('stem.', self.stem.active_state_dict())
        state.update(
            stage_blocks_state(self.stages, [
                self.active_blocks(s) for s in range(self.num_stages)
            ], self.stem.out_channels.current_choice))
        return state

    def latency_parts(self, codec: ResNetPopulationCodec, resolution: int,
                      batch_size: int, num_classes: int):
        """No fixed part; the stem (with max pooling) of each (width,
        width, residual), each bottleneck of each (input, output width,
        expand ratio) that occurs there, the pooled classifier of each
        last width."""
        space, widths = self.search_space, self.search_space.width_mults
        norm = self.norm_cfg
        stem = []
        for w0 in widths:
            for w1 in widths:
                for residual in (False, True):
                    mid = space.stem_mid_channels(w0)
                    out = space.stem_out_channels(w1)
                    stem.append(
                        (('stem', resolution, mid, out, residual),
                         lambda m=mid, o=out, r=residual: nn.Sequential(
                             ResNetStem(m, o, r, norm), max_pool()),
                         (batch_size, 3, resolution, resolution)))
        sizes = self.resource_estimator(num_classes).block_input_sizes(
            resolution)
        slots = [stem]
        for b, (s, position) in enumerate(
                zip(codec.block_stage, codec.block_position)):
            stride = space.stage_strides[s] if position == 0 else 1
            parts = []
            for w_in in widths:
                in_channels = (
                    space.stem_out_channels(w_in)
                    if s == 0 else space.stage_out_channels(s - 1, w_in))
                for w_out in widths:
                    out = space.stage_out_channels(s, w_out)
                    for ratio in space.expand_ratios:
                        if position > 0 and w_in != w_out:
                            parts.append(None)  # inside a stage: in = out
                            continue
                        channels = in_channels if position == 0 else out
                        args = (channels, bottleneck_width(out, ratio), out,
                                stride, position == 0, norm)
                        parts.append(
                            (('bottleneck', sizes[b]) + args[:5],
                             lambda a=args: ResNetBottleneck(*a),
                             (batch_size, channels, sizes[b], sizes[b])))
            slots.append(parts)
        # The last block keeps its input size (it is no stage's first).
        slots.append([
            head_part(
                space.stage_out_channels(space.num_stages - 1, w), sizes[-1],
                batch_size, num_classes) for w in widths
        ])
        return [], slots

    def reorganize_channels(self, expand_ratio_stage: int = 0) -> None:
        """Sort every block's middle channels (official
        ``re_organize_middle_weights``)."""
        for stage in self.stages:
            for block in stage:
                block.reorganize_channels(expand_ratio_stage)
        self.train(self.training)  # drops cached active weights
