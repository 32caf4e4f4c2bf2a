"""Analytic MACs and parameters of ResNet-48 subnets."""
from typing import List, Tuple

from mmofa.structures import (RESNET48_STAGE_STRIDES, ResNet48Subnet,
                              has_downsample)
from .conv_cost import conv_cost, conv_output_size
from .resource_estimator import ResourceEstimator, stage_block_sizes


class ResNet48ResourceEstimator(ResourceEstimator):
    """MACs and parameters of any subnet of an elastic ResNet-48.

    Counts as Once-for-All does (convs, their batch norms' parameters and
    the classifier, whose input is the subnet's last width) and agrees with
    a hook-based count of the subnet built as a plain network.

    Args:
        space (ResNet48SearchSpace): The supernet's search space.
        num_classes (int): Classes of the linear classifier.
        classifier_bias (bool): Whether the classifier has a bias.
    """

    # The parts a subnet's cost adds up from (also the cost slots of
    # ResNet48PopulationCodec).
    def stem_cost(self, out_channels: int, resolution: int) -> Tuple[int, int]:
        """``(macs, params)`` of the 7x7 stem conv (+ BN)."""
        return conv_cost(
            conv_output_size(resolution, 2), 3, out_channels, 7, bn=True)

    def block_input_sizes(self, resolution: int) -> List[int]:
        """The input side of every block of the supernet, in order."""
        return stage_block_sizes(resolution, self.space.max_depths,
                                 RESNET48_STAGE_STRIDES)

    def block_cost(self, stage: int, position: int, in_channels: int,
                   mid_channels: int, out_channels: int,
                   size: int) -> Tuple[int, int]:
        """``(macs, params)`` of a basic block (+ BN), with its downsample
        conv where the shortcut needs one."""
        stride = RESNET48_STAGE_STRIDES[stage] if position == 0 else 1
        size = conv_output_size(size, stride)
        parts = [
            conv_cost(size, in_channels, mid_channels, 3, bn=True),
            conv_cost(size, mid_channels, out_channels, 3, bn=True)
        ]
        if has_downsample(in_channels, out_channels, stride):
            parts.append(
                conv_cost(size, in_channels, out_channels, 1, bn=True))
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    def costs(self, subnet: ResNet48Subnet,
              resolution: int) -> Tuple[int, int]:
        """``(macs, params)`` of ``subnet`` at ``resolution``."""
        space = self.space
        in_channels = space.width(0, subnet.out_ratio[0])
        parts = [self.stem_cost(in_channels, resolution)]
        sizes = self.block_input_sizes(resolution)
        start = 0
        for s in range(space.num_stages):
            out_channels = space.width(s, subnet.out_ratio[s])
            for b in range(subnet.depth[s]):
                mid = space.width(s, subnet.mid_ratio[s][b])
                parts.append(
                    self.block_cost(s, b, in_channels, mid, out_channels,
                                    sizes[start + b]))
                in_channels = out_channels
            start += space.max_depths[s]
        parts.append(self.head_cost(in_channels))
        return sum(p[0] for p in parts), sum(p[1] for p in parts)
