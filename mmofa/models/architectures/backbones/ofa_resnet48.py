"""The elastic ResNet-48 of the CVPR 2022 NAS track 1.

Built at its largest size: a 7x7 stride-2 stem conv + BN + ReLU, 3x3
stride-2 max pooling, four stages (``layer1`` to ``layer4``) of up to 5, 5,
8 and 5 basic blocks of 64, 128, 256 and 512 channels, global average
pooling. Every conv's width is elastic (a ratio of its stage's width, made a
multiple of 8), every stage's depth too. Each block owns the ratio of its
first conv (``layer{s}.{b}.mid_ratio``); each stage owns one ratio for the
outputs of all its blocks (``layer{s}.out_ratio``), since its identity
shortcuts add them up; the stem's output is ``layer1``'s first shortcut and
shares ``layer1.out_ratio``. The first block of stages 2-4 has a 1x1
stride-2 conv + BN shortcut (``downsample``). The forward reads the
mutables.
"""
import math
from functools import partial
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmofa.models.bricks import (ResidualBlock, conv_bn_act, global_avg_pool,
                                 max_pool, prefixed)
from mmofa.models.dynamic_ops.slicing import (importance_order, select_,
                                              select_bn_)
from mmofa.models.mutables import DerivedMutable, OneShotMutableValue
from mmofa.models.task_modules import ResNet48ResourceEstimator
from mmofa.models.utils import OFAInitMixin
from mmofa.registry import MODELS
from mmofa.structures import (RESNET48_BASE_CHANNELS, RESNET48_STAGE_STRIDES,
                              TRACK_CHANNEL_RATIOS, TRACK_DEPTHS,
                              ResNet48PopulationCodec, ResNet48SearchSpace,
                              ResNet48Subnet, channel_width, has_downsample)
from mmofa.structures.resnet48_subnet import RESNET48_SUBNETS
from mmofa.structures.subnet_base import check_per_stage
from ..static.resnet48 import BasicBlock
from .elastic_backbone import (ElasticBackbone, elastic_conv_bn, head_part,
                               per_stage_candidates, stage_blocks_state)


class ElasticBasicBlock(ResidualBlock):
    """A basic block with an elastic middle width and output width.

    Args:
        in_channels (int): Largest input channels.
        base_channels (int): Full width of the stage.
        stride (int): Stride of ``conv1`` and the shortcut.
        channel_ratios (Sequence[float]): Candidate ratios of ``conv1``.
        out_channels (DerivedMutable): The active output width, from the
            stage's output ratio.
        alias (str): Prefix of the mutable's alias, e.g. ``'layer2.0'``.
        norm_cfg (dict, optional): Keyword arguments of the batch norms.
    """
    conv_names = ('conv1', 'conv2')

    def __init__(self,
                 in_channels: int,
                 base_channels: int,
                 stride: int,
                 channel_ratios: Sequence[float],
                 out_channels: DerivedMutable,
                 alias: str,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        self.mutable_mid_ratio = OneShotMutableValue(
            channel_ratios, alias=f'{alias}.mid_ratio', dim='channel_ratio')
        self.mid_channels = self.mutable_mid_ratio.derive(
            partial(channel_width, base_channels))
        self.out_channels = out_channels
        max_mid = max(self.mid_channels.candidates)
        max_out = max(out_channels.candidates)
        self.conv1 = elastic_conv_bn(in_channels, max_mid, 3, stride, 'relu',
                                     norm_cfg)
        self.conv2 = elastic_conv_bn(max_mid, max_out, 3, norm_cfg=norm_cfg)
        # Stage 1's first block keeps its width (the stem's, tied to it).
        if has_downsample(in_channels, max_out, stride):
            self.downsample = elastic_conv_bn(
                in_channels, max_out, 1, stride, norm_cfg=norm_cfg)

    def active_widths(self, in_channels: int) -> Dict[str, Tuple[int, int]]:
        mid = self.mid_channels.current_choice
        out = self.out_channels.current_choice
        return dict(
            conv1=(in_channels, mid),
            conv2=(mid, out),
            downsample=(in_channels, out))

    @torch.no_grad()
    def reorganize_channels(self, expand_ratio_stage: int = 0) -> None:
        """Sort the middle channels by the L1 norm of their ``conv2``
        weights; the block's output is unchanged. ``expand_ratio_stage = n
        > 0`` keeps channels within the widths of the ``n + 1`` largest
        ratios."""
        order = importance_order(
            self.conv2.conv.weight.abs().sum(dim=(0, 2, 3)),
            self.mid_channels.candidates, expand_ratio_stage)
        select_(self.conv2.conv.weight, 1, order)
        select_bn_(self.conv1.bn, order)
        select_(self.conv1.conv.weight, 0, order)


@MODELS.register_module()
class OFAResNet48(OFAInitMixin, ElasticBackbone):
    """The elastic ResNet-48 supernet of the CVPR 2022 NAS track 1.

    Args:
        depths (Sequence): Candidate depths, one list per stage (or one for
            all). Defaults to the track's ``[2-5], [2-5], [2-8], [2-5]``.
        channel_ratios (Sequence[float]): Candidate width ratios of every
            conv. Defaults to the track's ``(1.0, 0.95, ..., 0.7)``; the
            arch code's digit ``k`` is the k-th largest.
        base_channels (Sequence[int]): Full width of each stage (and the
            stem). Defaults to ``(64, 128, 256, 512)``.
        **kwargs: ``norm_cfg`` and ``init_cfg`` of
            :class:`ElasticBackbone` (Once-for-All's batch norms and
            ``he_fout`` initialisation by default).

    Its forward gives ``(features, )``, the pooled output of the last
    active block, as wide as the active subnet's last stage
    (:attr:`active_out_channels`): the head is a ``DropoutLinearClsHead``
    with ``elastic_in_channels=True``.
    """
    subnets = RESNET48_SUBNETS
    codec_class = ResNet48PopulationCodec
    estimator_class = ResNet48ResourceEstimator

    def __init__(self,
                 depths: Sequence = TRACK_DEPTHS,
                 channel_ratios: Sequence[float] = TRACK_CHANNEL_RATIOS,
                 base_channels: Sequence[int] = RESNET48_BASE_CHANNELS,
                 **kwargs):
        super().__init__(**kwargs)
        norm_cfg = self.norm_cfg
        num_stages = len(RESNET48_STAGE_STRIDES)
        check_per_stage(
            dict(base_channels=base_channels), num_stages,
            type(self).__name__, 'ResNet-48', ValueError)
        depths = per_stage_candidates('depths', depths, num_stages)
        channel_ratios = tuple(sorted(channel_ratios, reverse=True))
        self.num_stages = num_stages
        self.search_space = ResNet48SearchSpace(
            depths=depths,
            channel_ratios=channel_ratios,
            base_channels=tuple(base_channels),
            # total stride: stem conv, max pooling, stages
            min_resolution=2 * 2 * math.prod(RESNET48_STAGE_STRIDES))

        self.out_ratios = nn.ModuleList(
            OneShotMutableValue(
                channel_ratios,
                alias=f'layer{s + 1}.out_ratio',
                dim='channel_ratio') for s in range(num_stages))
        self.stem_channels = self.out_ratios[0].derive(
            partial(channel_width, base_channels[0]))
        self.stem = elastic_conv_bn(3, base_channels[0], 7, 2, 'relu',
                                    norm_cfg)
        self.max_pool = max_pool()
        self.stage_depths = nn.ModuleList()
        in_channels = base_channels[0]
        for s, stride in enumerate(RESNET48_STAGE_STRIDES):
            out_channels = self.out_ratios[s].derive(
                partial(channel_width, base_channels[s]))
            blocks = nn.ModuleList()
            for b in range(max(depths[s])):
                blocks.append(
                    ElasticBasicBlock(
                        in_channels,
                        base_channels[s],
                        stride if b == 0 else 1,
                        channel_ratios,
                        out_channels,
                        alias=f'layer{s + 1}.{b}',
                        norm_cfg=norm_cfg))
                in_channels = base_channels[s]
            self.add_module(f'layer{s + 1}', blocks)
            self.stage_depths.append(
                OneShotMutableValue(
                    depths[s], alias=f'layer{s + 1}.depth', dim='depth'))

    @property
    def active_out_channels(self) -> int:
        """Width of the pooled features of the active subnet."""
        return self.stages[-1][0].out_channels.current_choice

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = self.stem(x, out_channels=self.stem_channels.current_choice)
        x = self.max_pool(x)
        for stage, depth in zip(self.stages, self.stage_depths):
            for b in range(depth.current_choice):
                x = stage[b](x)
        return (global_avg_pool(x).flatten(1), )

    # ------------------------------------------------------------ subnets
    def current_subnet(self) -> ResNet48Subnet:
        """The active subnet, read from the mutables."""
        depth = tuple(d.current_choice for d in self.stage_depths)
        mid_ratio = tuple(
            tuple(stage[b].mutable_mid_ratio.current_choice for b in range(d))
            for stage, d in zip(self.stages, depth))
        return ResNet48Subnet(depth,
                              tuple(r.current_choice for r in self.out_ratios),
                              mid_ratio)

    def subnet_alias_choices(self, subnet: ResNet48Subnet) -> dict:
        """Alias -> value of every mutable the (checked) subnet sets."""
        choices = {}
        for s, stage in enumerate(self.stages):
            choices[self.stage_depths[s].alias] = subnet.depth[s]
            choices[self.out_ratios[s].alias] = subnet.out_ratio[s]
            for b in range(subnet.depth[s]):
                choices[stage[b].mutable_mid_ratio.alias] = \
                    subnet.mid_ratio[s][b]
        return choices

    def export_config(self) -> dict:
        """Config of the :class:`StaticResNet48` of the active subnet."""
        return dict(
            type='mmofa.StaticResNet48',
            out_channels=[
                stage[0].out_channels.current_choice for stage in self.stages
            ],
            mid_channels=[[
                stage[b].mid_channels.current_choice
                for b in range(depth.current_choice)
            ] for stage, depth in zip(self.stages, self.stage_depths)],
            norm_cfg=dict(self.norm_cfg))

    def export_state_dict(self) -> Dict[str, torch.Tensor]:
        """Sliced copies of the active subnet's weights, keyed and shaped as
        the :class:`StaticResNet48` of :meth:`export_config`."""
        in_channels = self.stem_channels.current_choice
        state = prefixed(
            'stem.',
            self.stem.active_state_dict(
                in_channels=3, out_channels=in_channels))
        state.update(
            stage_blocks_state(self.stages,
                               [d.current_choice for d in self.stage_depths],
                               in_channels))
        return state

    def latency_parts(self, codec: ResNet48PopulationCodec, resolution: int,
                      batch_size: int, num_classes: int):
        """No fixed part; the stem (with max pooling) of each width, each
        basic block of each (input, middle, output width) that occurs
        there, the pooled classifier of each last width."""
        space, ratios, norm = (self.search_space,
                               self.search_space.channel_ratios, self.norm_cfg)
        slots = [[(('stem', resolution, space.width(0, r)),
                   lambda c=space.width(0, r): nn.Sequential(
                       conv_bn_act(3, c, 7, 2, act='relu', norm_cfg=norm),
                       nn.MaxPool2d(3, 2, 1)), (batch_size, 3, resolution,
                                                resolution)) for r in ratios]]
        sizes = self.resource_estimator(num_classes).block_input_sizes(
            resolution)
        for b, (s, position) in enumerate(
                zip(codec.block_stage, codec.block_position)):
            stride = RESNET48_STAGE_STRIDES[s] if position == 0 else 1
            in_stage = codec.block_in_stage[b]
            parts = []
            for r_in in ratios:
                for r_mid in ratios:
                    for r_out in ratios:
                        if position > 0 and r_in != r_out:
                            parts.append(None)  # inside a stage: in = out
                            continue
                        args = (space.width(in_stage,
                                            r_in), space.width(s, r_mid),
                                space.width(s, r_out), stride, norm)
                        parts.append(
                            (('basic', sizes[b]) + args[:4],
                             lambda a=args: BasicBlock(*a),
                             (batch_size, args[0], sizes[b], sizes[b])))
            slots.append(parts)
        slots.append([
            head_part(
                space.width(space.num_stages - 1, r), sizes[-1], batch_size,
                num_classes) for r in ratios
        ])
        return [], slots

    def reorganize_channels(self, expand_ratio_stage: int = 0) -> None:
        """Sort every block's middle channels (before an expand phase).

        Only the middle channels are sorted: the stage outputs are shared
        by every block, shortcut and the next stage, as in the track's
        baseline (``BasicBlock.reorder_weights``).
        """
        for stage in self.stages:
            for block in stage:
                block.reorganize_channels(expand_ratio_stage)
