"""Analytic MACs and parameters of ResNet-48 subnets."""
from typing import Dict, Optional, Tuple

from mmofa.models.architectures.static.resnet48 import (RESNET48_STAGE_STRIDES,
                                                        has_downsample)
from mmofa.structures import ResNet48SearchSpace, ResNet48Subnet
from .mobilenet_v3_estimator import _conv_output_size, conv_cost


class ResNet48ResourceEstimator:
    """MACs and parameters of any subnet of an elastic ResNet-48.

    Counts as Once-for-All does (convs, their batch norms' parameters and
    the classifier, whose input is the subnet's last width) and agrees with
    a hook-based count of the subnet built as a plain network.

    Args:
        space (ResNet48SearchSpace): The supernet's search space.
        num_classes (int): Classes of the linear classifier.
        classifier_bias (bool): Whether the classifier has a bias.
    """

    def __init__(self,
                 space: ResNet48SearchSpace,
                 num_classes: int,
                 classifier_bias: bool = True):
        self.space = space
        self.num_classes = num_classes
        self.classifier_bias = classifier_bias

    def costs(self, subnet: ResNet48Subnet,
              resolution: int) -> Tuple[int, int]:
        """``(macs, params)`` of ``subnet`` at ``resolution``."""
        space = self.space
        size = _conv_output_size(resolution, 2)
        in_channels = space.width(0, subnet.out_ratio[0])
        parts = [conv_cost(size, 3, in_channels, 7, bn=True)]
        size = _conv_output_size(size, 2)  # max pooling
        for s, stride in enumerate(RESNET48_STAGE_STRIDES):
            out_channels = space.width(s, subnet.out_ratio[s])
            for b in range(subnet.depth[s]):
                block_stride = stride if b == 0 else 1
                mid = space.width(s, subnet.mid_ratio[s][b])
                size = _conv_output_size(size, block_stride)
                parts.append(conv_cost(size, in_channels, mid, 3, bn=True))
                parts.append(conv_cost(size, mid, out_channels, 3, bn=True))
                if has_downsample(in_channels, out_channels, block_stride):
                    parts.append(
                        conv_cost(size, in_channels, out_channels, 1, bn=True))
                in_channels = out_channels
        parts.append(
            conv_cost(
                1, in_channels, self.num_classes, 1,
                bias=self.classifier_bias))
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    def macs(self,
             subnet: ResNet48Subnet,
             resolution: Optional[int] = None) -> int:
        """MACs per image; resolution defaults to the subnet's, else 224."""
        return self.costs(subnet, resolution or subnet.resolution or 224)[0]

    def params(self, subnet: ResNet48Subnet) -> int:
        """Parameters of the subnet as a plain network."""
        return self.costs(subnet, self.space.min_resolution)[1]

    def __call__(self,
                 subnet: ResNet48Subnet,
                 resolution: Optional[int] = None) -> Dict[str, int]:
        macs, params = self.costs(subnet, resolution or subnet.resolution
                                  or 224)
        return dict(macs=macs, params=params)
