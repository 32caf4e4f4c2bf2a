"""A plain ResNet of the Once-for-All ResNet50 family: one subnet, no mutables.

ResNet-D layout (as the official ``ResNets`` built by ``OFAResNets``): an
input stem of three 3x3 convs (stride 2, then an optional residual conv,
then the output conv), 3x3 max pooling, four stages of bottlenecks
(1x1 -> 3x3 with the stride -> 1x1, ReLU after the sum), the first block of
each stage with an average-pool + 1x1 conv + BN shortcut, global average
pooling. Layer names match the supernet's, so an exported subnet's state
dict reads ``backbone.layer2.0.conv2.conv.weight``.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmofa.models.bricks import (ConvBNAct, ResidualBlock, conv_bn_act,
                                 forward_stages, max_pool)
from mmofa.models.utils import OFAInitMixin
from mmofa.registry import MODELS
from mmofa.structures.resnet_subnet import RESNET50_STAGE_STRIDES
from mmofa.structures.subnet_base import check_per_stage


class AvgPoolConvBN(ConvBNAct):
    """ResNet-D projection shortcut: average pooling with the block's stride
    (``ceil_mode``), then a 1x1 conv and a batch norm.

    Args:
        conv (nn.Module): The 1x1 conv (stride 1; plain or elastic).
        bn (nn.Module): The batch norm.
        stride (int): Pooling window and stride; 1 pools nothing.
    """

    def __init__(self, conv: nn.Module, bn: nn.Module, stride: int):
        super().__init__(conv, bn)
        self.avg_pool = nn.AvgPool2d(
            stride, stride, ceil_mode=True) if stride > 1 else nn.Identity()

    def forward(self, x: torch.Tensor, **conv_kwargs) -> torch.Tensor:
        return super().forward(self.avg_pool(x), **conv_kwargs)


class ResNetBottleneck(ResidualBlock):
    """1x1 conv, 3x3 conv (stride), 1x1 conv; shortcut; ReLU after the sum.

    Args:
        in_channels (int): Input channels.
        mid_channels (int): Width of the two inner convs.
        out_channels (int): Output channels.
        stride (int): Stride of the 3x3 conv and of the shortcut.
        downsample (bool): A ResNet-D projection shortcut (the first block
            of a stage); otherwise the identity.
        norm_cfg (dict, optional): Keyword arguments of the batch norms.
    """
    conv_names = ('conv1', 'conv2', 'conv3')

    def __init__(self,
                 in_channels: int,
                 mid_channels: int,
                 out_channels: int,
                 stride: int,
                 downsample: bool,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        if not downsample and (stride != 1 or in_channels != out_channels):
            raise ValueError(
                f'a block of stride {stride} from {in_channels} to '
                f'{out_channels} channels needs a downsample shortcut')
        norm_cfg = norm_cfg or {}
        self.conv1 = conv_bn_act(
            in_channels, mid_channels, 1, act='relu', norm_cfg=norm_cfg)
        self.conv2 = conv_bn_act(mid_channels, mid_channels, 3, stride, 'relu',
                                 norm_cfg)
        self.conv3 = conv_bn_act(
            mid_channels, out_channels, 1, norm_cfg=norm_cfg)
        if downsample:
            self.downsample = AvgPoolConvBN(
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                nn.BatchNorm2d(out_channels, **norm_cfg), stride)


class ResNetStem(nn.Module):
    """The ResNet-D input stem: 3x3 stride-2 conv, optional residual 3x3
    conv (``x + conv(x)``), 3x3 conv to the stem's output width.

    Args:
        mid_channels (int): Width of the first and the residual conv.
        out_channels (int): Output width.
        residual (bool): Whether the residual conv is present.
        norm_cfg (dict, optional): Keyword arguments of the batch norms.
    """

    def __init__(self,
                 mid_channels: int,
                 out_channels: int,
                 residual: bool = True,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        self.conv1 = conv_bn_act(
            3, mid_channels, 3, 2, act='relu', norm_cfg=norm_cfg)
        self.conv2 = conv_bn_act(
            mid_channels, mid_channels, 3, act='relu',
            norm_cfg=norm_cfg) if residual else None
        self.conv3 = conv_bn_act(
            mid_channels, out_channels, 3, act='relu', norm_cfg=norm_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        if self.conv2 is not None:
            x = self.conv2(x) + x
        return self.conv3(x)


@MODELS.register_module()
class StaticResNet(OFAInitMixin, BaseModule):
    """One subnet of the OFA ResNet50 space as a plain network.

    Args:
        stem_channels (Sequence[int]): Width of the stem's first (and
            residual) conv and of its output.
        stem_residual (bool): Whether the stem's residual conv is present.
        stage_channels (Sequence[int]): Output width of each stage.
        mid_channels (Sequence[Sequence[int]]): Middle width of each block,
            per stage (the number of blocks is the list length).
        stage_strides (Sequence[int]): Stride of each stage's first block.
            Defaults to ``(1, 2, 2, 2)``.
        norm_cfg (dict, optional): Keyword arguments of the batch norms.
        init_cfg (dict, optional): Initialisation config; by default the
            official ``he_fout`` initialisation.

    Returns a one-element tuple: the ``(N, stage_channels[-1])`` pooled
    features.
    """

    def __init__(self,
                 stem_channels: Sequence[int],
                 stem_residual: bool,
                 stage_channels: Sequence[int],
                 mid_channels: Sequence[Sequence[int]],
                 stage_strides: Sequence[int] = RESNET50_STAGE_STRIDES,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        num_stages = len(stage_channels)
        check_per_stage(
            dict(mid_channels=mid_channels, stage_strides=stage_strides),
            num_stages, type(self).__name__, 'stage_channels', ValueError)
        if any(len(widths) == 0 for widths in mid_channels):
            raise ValueError(f'every stage needs a block: {mid_channels}')
        self.num_stages = num_stages
        self.stem = ResNetStem(*stem_channels, stem_residual, norm_cfg)
        self.max_pool = max_pool()
        in_channels = stem_channels[1]
        for s, widths in enumerate(mid_channels):
            blocks = []
            for b, mid in enumerate(widths):
                blocks.append(
                    ResNetBottleneck(
                        in_channels,
                        mid,
                        stage_channels[s],
                        stride=stage_strides[s] if b == 0 else 1,
                        downsample=b == 0,
                        norm_cfg=norm_cfg))
                in_channels = stage_channels[s]
            self.add_module(f'layer{s + 1}', nn.Sequential(*blocks))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        return forward_stages(self, x)
