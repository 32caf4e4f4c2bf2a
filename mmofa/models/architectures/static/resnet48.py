"""A plain ResNet of basic blocks: one subnet of the ResNet-48 space.

The layout of the CVPR 2022 NAS track 1 networks: a 7x7 stride-2 stem conv
+ BN + ReLU, 3x3 stride-2 max pooling, four stages of basic blocks (strides
1, 2, 2, 2), global average pooling. Layer names match the elastic
supernet's, so an exported state dict reads
``backbone.layer2.0.conv1.conv.weight``.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmofa.models.bricks import (ResidualBlock, conv_bn_act, forward_stages,
                                 max_pool)
from mmofa.models.utils import OFAInitMixin
from mmofa.registry import MODELS
from mmofa.structures import RESNET48_STAGE_STRIDES, has_downsample
from mmofa.structures.subnet_base import check_per_stage


class BasicBlock(ResidualBlock):
    """Two 3x3 convs and a shortcut, ReLU after the sum.

    ``conv1`` (stride ``stride``) + BN + ReLU, ``conv2`` + BN; the shortcut
    is the input, or a 1x1 conv (stride ``stride``) + BN (``downsample``)
    when the stride or the width changes.

    Args:
        in_channels (int): Input channels.
        mid_channels (int): Output channels of ``conv1``.
        out_channels (int): Output channels of the block.
        stride (int): Stride of ``conv1`` and the shortcut.
        norm_cfg (dict, optional): Keyword arguments of the batch norms.
    """
    conv_names = ('conv1', 'conv2')

    def __init__(self,
                 in_channels: int,
                 mid_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        self.conv1 = conv_bn_act(in_channels, mid_channels, 3, stride, 'relu',
                                 norm_cfg)
        self.conv2 = conv_bn_act(
            mid_channels, out_channels, 3, norm_cfg=norm_cfg)
        if has_downsample(in_channels, out_channels, stride):
            self.downsample = conv_bn_act(
                in_channels, out_channels, 1, stride, norm_cfg=norm_cfg)


@MODELS.register_module()
class StaticResNet48(OFAInitMixin, BaseModule):
    """One subnet of the ResNet-48 space as a plain network.

    Args:
        out_channels (Sequence[int]): Output width of every block of each
            stage; the stem has the first stage's.
        mid_channels (Sequence[Sequence[int]]): Output width of ``conv1`` of
            each block, per stage (the stage depth is the list length).
        norm_cfg (dict, optional): Keyword arguments of the batch norms.
        init_cfg (dict, optional): Initialisation config; by default
            Once-for-All's ``he_fout``.

    Returns a one-element tuple: the ``(N, out_channels[-1])`` pooled
    features.
    """

    def __init__(self,
                 out_channels: Sequence[int],
                 mid_channels: Sequence[Sequence[int]],
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        self.num_stages = len(RESNET48_STAGE_STRIDES)
        check_per_stage(
            dict(out_channels=out_channels, mid_channels=mid_channels),
            self.num_stages, type(self).__name__, 'ResNet-48', ValueError)
        self.stem = conv_bn_act(
            3, out_channels[0], 7, 2, act='relu', norm_cfg=norm_cfg)
        self.max_pool = max_pool()
        in_channels = out_channels[0]
        for s, stride in enumerate(RESNET48_STAGE_STRIDES):
            blocks = []
            for b, mid in enumerate(mid_channels[s]):
                blocks.append(
                    BasicBlock(in_channels, mid, out_channels[s],
                               stride if b == 0 else 1, norm_cfg))
                in_channels = out_channels[s]
            self.add_module(f'layer{s + 1}', nn.Sequential(*blocks))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        return forward_stages(self, x)
