"""The Once-for-All MobileNetV3 supernet.

Built at its largest size: first conv, a fixed first block (``layer1``), five
elastic stages (``layer2`` to ``layer6``) of up to four inverted bottlenecks,
and the tail (``last_conv``). Each elastic block owns a kernel-size and an
expand-ratio mutable, each stage a depth mutable; the forward reads them.
The state dict follows MMRazor's OFA layout.
"""
import math
from functools import partial
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmofa.models.bricks import ConvBNAct, build_last_conv, prefixed
from mmofa.models.dynamic_ops import (ElasticBatchNorm2d, ElasticConv2d,
                                      ElasticDepthwiseConv2d,
                                      ElasticSqueezeExcitation)
from mmofa.models.dynamic_ops.slicing import (importance_order, select_,
                                              select_bn_)
from mmofa.models.mutables import OneShotMutableValue
from mmofa.models.task_modules import MobileNetV3ResourceEstimator
from mmofa.models.utils import OFAInitMixin, build_activation
from mmofa.registry import MODELS
from mmofa.structures import (MobileNetV3PopulationCodec,
                              MobileNetV3SearchSpace, MobileNetV3Subnet,
                              expanded_width)
from mmofa.structures.mobilenet_v3_subnet import MOBILENET_V3_SUBNETS
from ..static.mobilenet_v3 import (OFA_MBV3_BASE_WIDTHS, MBConvBlock,
                                   MobileNetV3Layout, build_stem)
from .elastic_backbone import ElasticBackbone, per_stage_candidates

Candidates = Union[Sequence, Sequence[Sequence]]


class ElasticMBConvBlock(nn.Module):
    """An inverted bottleneck with elastic kernel size and expand ratio.

    Args:
        in_channels (int): Input channels (fixed).
        out_channels (int): Output channels (fixed).
        stride (int): Depthwise stride.
        act (str): Activation of the expand and depthwise convs.
        use_se (bool): Squeeze-excitation after the depthwise conv.
        kernel_sizes (Sequence[int]): Candidate kernel sizes.
        expand_ratios (Sequence[float]): Candidate expand ratios.
        alias (str): Prefix of the mutables' aliases, e.g. ``'layer2.0'``.
        transform_kernel (bool): Kernel transform matrices. Defaults to True.
        norm_cfg (dict, optional): Keyword arguments of the batch norms.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int,
                 act: str,
                 use_se: bool,
                 kernel_sizes: Sequence[int],
                 expand_ratios: Sequence[float],
                 alias: str,
                 transform_kernel: bool = True,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        if 1 in expand_ratios and len(expand_ratios) > 1:
            raise ValueError(f'{alias}: expand ratio 1 (no expand conv) '
                             f'cannot be elastic, got {list(expand_ratios)}')
        norm_cfg = norm_cfg or {}
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.mutable_kernel_size = OneShotMutableValue(
            kernel_sizes, alias=f'{alias}.kernel_size', dim='kernel_size')
        self.mutable_expand_ratio = OneShotMutableValue(
            expand_ratios, alias=f'{alias}.expand_ratio', dim='expand_ratio')
        self.mid_channels = self.mutable_expand_ratio.derive(
            partial(expanded_width, in_channels))
        max_mid = max(self.mid_channels.candidates)

        self.expand_conv = None
        if max(expand_ratios) != 1:
            self.expand_conv = ConvBNAct(
                ElasticConv2d(in_channels, max_mid),
                ElasticBatchNorm2d(max_mid, **norm_cfg), build_activation(act))
        self.depthwise_conv = ConvBNAct(
            ElasticDepthwiseConv2d(max_mid, kernel_sizes, stride,
                                   transform_kernel),
            ElasticBatchNorm2d(max_mid, **norm_cfg), build_activation(act))
        self.se = ElasticSqueezeExcitation(max_mid) if use_se else None
        self.linear_conv = ConvBNAct(
            ElasticConv2d(max_mid, out_channels),
            ElasticBatchNorm2d(out_channels, **norm_cfg))
        self.has_shortcut = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mid_channels = self.mid_channels.current_choice
        out = x
        if self.expand_conv is not None:
            out = self.expand_conv(x, out_channels=mid_channels)
        out = self.depthwise_conv(
            out, kernel_size=self.mutable_kernel_size.current_choice)
        if self.se is not None:
            out = self.se(out)
        out = self.linear_conv(out)
        return out + x if self.has_shortcut else out

    def active_state_dict(self) -> Dict[str, torch.Tensor]:
        """Weights of the active block for a static ``MBConvBlock``."""
        mid_channels = self.mid_channels.current_choice
        state = {}
        if self.expand_conv is not None:
            state.update(
                prefixed(
                    'expand_conv.',
                    self.expand_conv.active_state_dict(
                        in_channels=self.in_channels,
                        out_channels=mid_channels)))
        state.update(
            prefixed(
                'depthwise_conv.',
                self.depthwise_conv.active_state_dict(
                    channels=mid_channels,
                    kernel_size=self.mutable_kernel_size.current_choice)))
        if self.se is not None:
            state.update(
                prefixed('se.', self.se.active_state_dict(mid_channels)))
        state.update(
            prefixed(
                'linear_conv.',
                self.linear_conv.active_state_dict(
                    in_channels=mid_channels, out_channels=self.out_channels)))
        return state

    @torch.no_grad()
    def reorganize_channels(self, expand_ratio_stage: int = 0) -> None:
        """Sort middle channels by importance, keeping the output unchanged.

        Importance is the L1 norm of each middle channel's projection
        weights. With ``expand_ratio_stage = n > 0`` the channels past the
        widths of the largest ``n + 1`` expand ratios get offsets of -1e5,
        -2e5, ... so no channel crosses those borders. The SE hidden units
        are sorted by the L1 norm of their expand weights.
        """
        order = importance_order(
            self.linear_conv.conv.weight.abs().sum(dim=(0, 2, 3)),
            self.mid_channels.candidates, expand_ratio_stage)

        select_(self.linear_conv.conv.weight, 1, order)
        select_(self.depthwise_conv.conv.weight, 0, order)
        select_bn_(self.depthwise_conv.bn, order)
        if self.se is not None:
            reduce, expand = self.se.conv1.conv, self.se.conv2.conv
            select_(expand.weight, 0, order)
            select_(expand.bias, 0, order)
            select_(reduce.weight, 1, order)
            se_order = torch.sort(
                expand.weight.abs().sum(dim=(0, 2, 3)), dim=0,
                descending=True)[1]
            select_(expand.weight, 1, se_order)
            select_(reduce.weight, 0, se_order)
            select_(reduce.bias, 0, se_order)
        if self.expand_conv is not None:
            select_bn_(self.expand_conv.bn, order)
            select_(self.expand_conv.conv.weight, 0, order)


def mmrazor_mask_problem(mask: Optional[torch.Tensor], width: int,
                         name: str) -> Optional[str]:
    """What is wrong with MMRazor's channel mask ``name`` of a fixed width
    (it must be ``width`` ones), or None (also when there is no mask)."""
    if mask is None:
        return None
    if mask.numel() != width:
        return (f'{name} has {mask.numel()} channels, this supernet has '
                f'{width} (another width_mult?)')
    if not bool((mask == 1).all()):
        return (f'{name} masks out {int((mask != 1).sum())} of {width} '
                'channels; the fixed widths take all ones')
    return None


@MODELS.register_module()
class OFAMobileNetV3(OFAInitMixin, ElasticBackbone):
    """The elastic Once-for-All MobileNetV3 supernet.

    Args:
        width_mult (float): Width multiplier (1.0 and 1.2 are released).
            Defaults to 1.0.
        kernel_sizes (Sequence): Candidate kernel sizes, one list for all
            stages or one per stage. Defaults to ``(3, 5, 7)``.
        expand_ratios (Sequence): Candidate expand ratios, likewise.
            Defaults to ``(3, 4, 6)``.
        depths (Sequence): Candidate depths, likewise. Defaults to
            ``(2, 3, 4)``.
        base_widths (Sequence[int]): The nine base widths. Defaults to the
            official ``(16, 16, 24, 40, 80, 112, 160, 960, 1280)``.
        transform_kernel (bool): Learn kernel transform matrices; otherwise
            smaller kernels are centre crops. Defaults to True.
        **kwargs: ``norm_cfg`` and ``init_cfg`` of
            :class:`ElasticBackbone` (Once-for-All's batch norms and
            ``he_fout`` initialisation by default).

    Returns a one-element tuple: the ``(N, last_channels)`` pooled features.
    """
    subnets = MOBILENET_V3_SUBNETS
    first_stage_layer = 2
    codec_class = MobileNetV3PopulationCodec

    def __init__(self,
                 width_mult: float = 1.0,
                 kernel_sizes: Candidates = (3, 5, 7),
                 expand_ratios: Candidates = (3, 4, 6),
                 depths: Candidates = (2, 3, 4),
                 base_widths: Sequence[int] = OFA_MBV3_BASE_WIDTHS,
                 transform_kernel: bool = True,
                 **kwargs):
        super().__init__(**kwargs)
        norm_cfg = self.norm_cfg
        layout = MobileNetV3Layout.build(width_mult, base_widths)
        num_stages = len(layout.stage_out_channels)
        kernel_sizes = per_stage_candidates('kernel_sizes', kernel_sizes,
                                            num_stages)
        expand_ratios = per_stage_candidates('expand_ratios', expand_ratios,
                                             num_stages)
        depths = per_stage_candidates('depths', depths, num_stages)
        self.width_mult = width_mult
        self.base_widths = tuple(base_widths)
        self.layout = layout
        self.num_stages = num_stages
        self.search_space = MobileNetV3SearchSpace(
            kernel_sizes=kernel_sizes,
            expand_ratios=expand_ratios,
            depths=depths,
            width_mult=width_mult,
            stage_in_channels=layout.stage_in_channels,
            stage_out_channels=layout.stage_out_channels,
            stage_use_se=layout.stage_use_se,
            first_channels=layout.first_channels,
            first_block_channels=layout.first_block_channels,
            last_channels=layout.last_channels,
            min_resolution=2 * math.prod(layout.stage_strides))

        self.first_conv, self.layer1 = build_stem(layout, norm_cfg)
        in_channels = layout.first_block_channels
        self.stage_depths = nn.ModuleList()
        for s in range(num_stages):
            name = f'layer{s + 2}'
            blocks = nn.ModuleList()
            for b in range(max(depths[s])):
                blocks.append(
                    ElasticMBConvBlock(
                        in_channels,
                        layout.stage_out_channels[s],
                        stride=layout.stage_strides[s] if b == 0 else 1,
                        act=layout.stage_acts[s],
                        use_se=layout.stage_use_se[s],
                        kernel_sizes=kernel_sizes[s],
                        expand_ratios=expand_ratios[s],
                        alias=f'{name}.{b}',
                        transform_kernel=transform_kernel,
                        norm_cfg=norm_cfg))
                in_channels = layout.stage_out_channels[s]
            self.add_module(name, blocks)
            self.stage_depths.append(
                OneShotMutableValue(
                    depths[s], alias=f'{name}.depth', dim='depth'))
        self.last_conv = build_last_conv(in_channels,
                                         layout.final_expand_channels,
                                         layout.last_channels, norm_cfg)

    @property
    def active_out_channels(self) -> int:
        """Width of the pooled features (fixed: the feature mix layer)."""
        return self.layout.last_channels

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = self.first_conv(x)
        x = self.layer1(x)
        for stage, depth in zip(self.stages, self.stage_depths):
            for b in range(depth.current_choice):
                x = stage[b](x)
        x = self.last_conv(x)
        return (x.flatten(1), )

    # ------------------------------------------------------------ subnets
    def current_subnet(self) -> MobileNetV3Subnet:
        """The active subnet, read from the mutables."""
        depth, kernel_size, expand_ratio = [], [], []
        for stage, mutable_depth in zip(self.stages, self.stage_depths):
            blocks = [stage[b] for b in range(mutable_depth.current_choice)]
            depth.append(mutable_depth.current_choice)
            kernel_size.append(
                tuple(b.mutable_kernel_size.current_choice for b in blocks))
            expand_ratio.append(
                tuple(b.mutable_expand_ratio.current_choice for b in blocks))
        return MobileNetV3Subnet(
            tuple(depth), tuple(kernel_size), tuple(expand_ratio))

    def subnet_alias_choices(self, subnet: MobileNetV3Subnet) -> dict:
        """Alias -> value of every mutable the (checked) subnet sets."""
        choices = {}
        for s, stage in enumerate(self.stages):
            choices[f'layer{s + 2}.depth'] = subnet.depth[s]
            for b in range(subnet.depth[s]):
                choices[stage[b].mutable_kernel_size.alias] = \
                    subnet.kernel_size[s][b]
                choices[stage[b].mutable_expand_ratio.alias] = \
                    subnet.expand_ratio[s][b]
        return choices

    def export_config(self) -> dict:
        """Config of the :class:`StaticMobileNetV3` of the active subnet."""
        subnet = self.current_subnet()
        return dict(
            type='mmofa.StaticMobileNetV3',
            kernel_size=[list(k) for k in subnet.kernel_size],
            expand_ratio=[list(e) for e in subnet.expand_ratio],
            width_mult=self.width_mult,
            base_widths=list(self.base_widths),
            norm_cfg=dict(self.norm_cfg))

    def export_state_dict(self) -> Dict[str, torch.Tensor]:
        """Sliced and transformed weights of the active subnet.

        Keys and shapes are those of the :class:`StaticMobileNetV3` built by
        :meth:`export_config`; tensors are copies.
        """
        state = {}
        for name in ('first_conv', 'layer1', 'last_conv'):
            for key, value in getattr(self, name).state_dict().items():
                state[f'{name}.{key}'] = value.detach().clone()
        for s, (stage,
                depth) in enumerate(zip(self.stages, self.stage_depths)):
            for b in range(depth.current_choice):
                state.update(
                    prefixed(f'layer{s + 2}.{b}.',
                             stage[b].active_state_dict()))
        return state

    def resource_estimator(self,
                           num_classes: int,
                           classifier_bias: bool = True
                           ) -> MobileNetV3ResourceEstimator:
        """Analytic MACs / params of subnets of this supernet."""
        return MobileNetV3ResourceEstimator.from_backbone(
            self, num_classes, classifier_bias)

    def latency_parts(self, codec: MobileNetV3PopulationCodec, resolution: int,
                      batch_size: int, num_classes: int):
        """The stem and the tail (with the classifier) are fixed; each
        block's part is the static block of its (kernel, expand) pair, with
        the input it sees. Blocks of one stage after the first share their
        shapes, so each shape is measured once."""
        space, layout = self.search_space, self.layout
        tail_in = space.stage_out_channels[-1]
        size = (resolution - 1) // 2 + 1  # after the stride-2 stem
        slots = []
        for b, (s, position) in enumerate(
                zip(codec.block_stage, codec.block_position)):
            stride = layout.stage_strides[s] if position == 0 else 1
            in_channels = space.block_in_channels(s, position)
            parts = [None] * codec.slot_sizes[b]
            for i, k in enumerate(space.kernel_sizes[s]):
                for j, e in enumerate(space.expand_ratios[s]):
                    args = (in_channels, space.stage_out_channels[s], k,
                            stride, e, layout.stage_acts[s],
                            layout.stage_use_se[s])
                    parts[i * codec.max_expands +
                          j] = (('block', size) + args,
                                lambda args=args: MBConvBlock(*args),
                                (batch_size, in_channels, size, size))
            slots.append(parts)
            size = (size - 1) // stride + 1
        fixed = [(('stem',
                   resolution), lambda: nn.Sequential(*build_stem(layout)),
                  (batch_size, 3, resolution, resolution)),
                 (('tail', size, num_classes), lambda: nn.Sequential(
                     build_last_conv(tail_in, layout.final_expand_channels,
                                     layout.last_channels), nn.Flatten(1),
                     nn.Linear(layout.last_channels, num_classes)),
                  (batch_size, tail_in, size, size))]
        return fixed, slots

    def reorganize_channels(self, expand_ratio_stage: int = 0) -> None:
        """Sort every block's middle channels (before an expand phase)."""
        for stage in self.stages:
            for block in stage:
                block.reorganize_channels(expand_ratio_stage)

    # ------------------------------------------------- MMRazor checkpoints
    def adapt_loaded_state_dict(self, state_dict: dict,
                                prefix: str) -> List[str]:
        """Check and drop MMRazor's channel masks of the fixed first and
        last widths (all ones of that width); return what is wrong."""
        problems = []
        for name, width in (('first_mutable_channels.mask',
                             self.layout.first_channels),
                            ('last_mutable_channels.mask',
                             self.layout.last_channels)):
            mask = state_dict.pop(prefix + name, None)
            problem = mmrazor_mask_problem(mask, width, prefix + name)
            if problem:
                problems.append(problem)
        return problems

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        error_msgs.extend(self.adapt_loaded_state_dict(state_dict, prefix))
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)
