"""A plain MobileNetV3 of the Once-for-All family: one subnet, no mutables.

Layer names match the supernet's (and MMRazor's), so the state dict of an
exported subnet reads ``backbone.layer3.0.depthwise_conv.conv.weight``.
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmofa.models.bricks import SqueezeExcitation, build_last_conv, conv_bn_act
from mmofa.models.utils import OFAInitMixin
from mmofa.registry import MODELS
from mmofa.structures import expanded_width
from mmofa.structures.subnet_base import check_per_stage
from mmofa.utils import make_divisible

# first conv, first block, five elastic stages, final expand, feature mix
OFA_MBV3_BASE_WIDTHS = (16, 16, 24, 40, 80, 112, 160, 960, 1280)
STAGE_STRIDES = (2, 2, 2, 1, 2)
STAGE_ACTS = ('relu', 'relu', 'h_swish', 'h_swish', 'h_swish')
STAGE_USE_SE = (False, True, False, True, True)


@dataclass(frozen=True)
class MobileNetV3Layout:
    """Fixed widths, strides, activations and SE flags of the OFA MobileNetV3.

    Every width is ``make_divisible(base * width_mult, 8)``.
    """
    first_channels: int
    first_block_channels: int
    stage_out_channels: Tuple[int, ...]
    final_expand_channels: int
    last_channels: int
    stage_strides: Tuple[int, ...] = STAGE_STRIDES
    stage_acts: Tuple[str, ...] = STAGE_ACTS
    stage_use_se: Tuple[bool, ...] = STAGE_USE_SE

    @classmethod
    def build(cls,
              width_mult: float = 1.0,
              base_widths: Sequence[int] = OFA_MBV3_BASE_WIDTHS
              ) -> 'MobileNetV3Layout':
        if len(base_widths) != 9:
            raise ValueError(
                'base_widths needs 9 entries (first conv, first block, 5 '
                f'stages, final expand, feature mix), got {list(base_widths)}')
        widths = [make_divisible(w * width_mult, 8) for w in base_widths]
        return cls(widths[0], widths[1], tuple(widths[2:7]), widths[7],
                   widths[8])

    @property
    def stage_in_channels(self) -> Tuple[int, ...]:
        return (self.first_block_channels, ) + self.stage_out_channels[:-1]


class MBConvBlock(nn.Module):
    """Inverted bottleneck: 1x1 expand, kxk depthwise, SE, 1x1 project.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Depthwise kernel size.
        stride (int): Depthwise stride.
        expand_ratio (float): Middle width is
            ``make_divisible(round(in_channels * expand_ratio), 8)``; with 1
            there is no expand conv.
        act (str): Activation of the expand and depthwise convs.
        use_se (bool): Squeeze-excitation after the depthwise conv.
        norm_cfg (dict, optional): Keyword arguments of the batch norms.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int,
                 expand_ratio: float,
                 act: str,
                 use_se: bool,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        mid_channels = expanded_width(in_channels, expand_ratio)
        self.expand_conv = None
        if expand_ratio != 1:
            self.expand_conv = conv_bn_act(
                in_channels, mid_channels, 1, act=act, norm_cfg=norm_cfg)
        self.depthwise_conv = conv_bn_act(
            mid_channels,
            mid_channels,
            kernel_size,
            stride,
            act=act,
            groups=mid_channels,
            norm_cfg=norm_cfg)
        self.se = SqueezeExcitation(mid_channels) if use_se else None
        self.linear_conv = conv_bn_act(
            mid_channels, out_channels, 1, norm_cfg=norm_cfg)
        self.has_shortcut = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x if self.expand_conv is None else self.expand_conv(x)
        out = self.depthwise_conv(out)
        if self.se is not None:
            out = self.se(out)
        out = self.linear_conv(out)
        return out + x if self.has_shortcut else out


def build_stem(layout: MobileNetV3Layout,
               norm_cfg: Optional[dict] = None) -> Tuple[nn.Module, nn.Module]:
    """The first conv (3x3, stride 2, h_swish) and the fixed first block."""
    first_conv = conv_bn_act(
        3, layout.first_channels, 3, 2, act='h_swish', norm_cfg=norm_cfg)
    first_block = nn.Sequential(
        MBConvBlock(
            layout.first_channels,
            layout.first_block_channels,
            kernel_size=3,
            stride=1,
            expand_ratio=1,
            act='relu',
            use_se=False,
            norm_cfg=norm_cfg))
    return first_conv, first_block


@MODELS.register_module()
class StaticMobileNetV3(OFAInitMixin, BaseModule):
    """One subnet of the OFA MobileNetV3 space as a plain network.

    Args:
        kernel_size (Sequence[Sequence[int]]): Kernel size of each active
            block, per stage (the stage depth is the list length).
        expand_ratio (Sequence[Sequence[float]]): Expand ratio of each active
            block, per stage.
        width_mult (float): Width multiplier. Defaults to 1.0.
        base_widths (Sequence[int]): The nine base widths. Defaults to the
            official ``(16, 16, 24, 40, 80, 112, 160, 960, 1280)``.
        norm_cfg (dict, optional): Keyword arguments of the batch norms
            (``momentum``, ``eps``).
        init_cfg (dict, optional): Initialisation config; by default the
            official ``he_fout`` initialisation.

    Returns a one-element tuple: the ``(N, last_channels)`` pooled features.
    """

    def __init__(self,
                 kernel_size: Sequence[Sequence[int]],
                 expand_ratio: Sequence[Sequence[float]],
                 width_mult: float = 1.0,
                 base_widths: Sequence[int] = OFA_MBV3_BASE_WIDTHS,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        layout = MobileNetV3Layout.build(width_mult, base_widths)
        num_stages = len(layout.stage_out_channels)
        check_per_stage(
            dict(kernel_size=kernel_size, expand_ratio=expand_ratio),
            num_stages, type(self).__name__, 'MobileNetV3', ValueError)
        self.layout = layout
        self.first_conv, self.layer1 = build_stem(layout, norm_cfg)
        in_channels = layout.first_block_channels
        for s in range(num_stages):
            if len(kernel_size[s]) != len(expand_ratio[s]):
                raise ValueError(
                    f'stage {s}: {len(kernel_size[s])} kernel sizes but '
                    f'{len(expand_ratio[s])} expand ratios')
            blocks = []
            for b, (k, e) in enumerate(zip(kernel_size[s], expand_ratio[s])):
                blocks.append(
                    MBConvBlock(
                        in_channels,
                        layout.stage_out_channels[s],
                        kernel_size=k,
                        stride=layout.stage_strides[s] if b == 0 else 1,
                        expand_ratio=e,
                        act=layout.stage_acts[s],
                        use_se=layout.stage_use_se[s],
                        norm_cfg=norm_cfg))
                in_channels = layout.stage_out_channels[s]
            self.add_module(f'layer{s + 2}', nn.Sequential(*blocks))
        self.num_stages = num_stages
        self.last_conv = build_last_conv(in_channels,
                                         layout.final_expand_channels,
                                         layout.last_channels, norm_cfg)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = self.first_conv(x)
        x = self.layer1(x)
        for s in range(self.num_stages):
            x = getattr(self, f'layer{s + 2}')(x)
        x = self.last_conv(x)
        return (x.flatten(1), )
