"""Analytic MACs and parameters of OFA ResNet subnets."""
from typing import Dict, List, Optional, Tuple

from mmofa.structures.resnet_subnet import (ResNetSearchSpace, ResNetSubnet,
                                            bottleneck_width)
from .conv_cost import conv_cost, conv_output_size


class ResNetResourceEstimator:
    """MACs and parameters of any subnet of an OFA ResNet at any size.

    Counts as Once-for-All does (convs and the classifier; batch norms,
    pooling, activations and additions are free; see
    :func:`count_macs_params`), matching the official
    ``ResNet50FLOPsModel`` and a hook-based count of the exported static
    model. Parameters include the batch norms' affine terms.

    Args:
        space (ResNetSearchSpace): The supernet's search space.
        num_classes (int): Classes of the linear classifier.
        classifier_bias (bool): Whether the classifier has a bias.
    """

    def __init__(self,
                 space: ResNetSearchSpace,
                 num_classes: int,
                 classifier_bias: bool = True):
        self.space = space
        self.num_classes = num_classes
        self.classifier_bias = classifier_bias

    # The parts a subnet's cost adds up from (also the cost slots of
    # ResNetPopulationCodec).
    def stem_costs(self, width_first: float, width_out: float, residual: bool,
                   resolution: int) -> List[Tuple[int, int]]:
        """``(macs, params)`` of the stem's convs (+ BN)."""
        space = self.space
        mid = space.stem_mid_channels(width_first)
        channels = space.stem_out_channels(width_out)
        size = conv_output_size(resolution, 2)
        costs = [conv_cost(size, 3, mid, 3, bn=True)]
        if residual:
            costs.append(conv_cost(size, mid, mid, 3, bn=True))
        costs.append(conv_cost(size, mid, channels, 3, bn=True))
        return costs

    def block_input_sizes(self, resolution: int) -> List[int]:
        """The input side of every block of the supernet, in order."""
        size = conv_output_size(conv_output_size(resolution, 2), 2)
        sizes = []
        for s, max_depth in enumerate(self.space.max_depths):
            for b in range(max_depth):
                sizes.append(size)
                if b == 0:
                    size = conv_output_size(size, self.space.stage_strides[s])
        return sizes

    def block_costs(self, stage: int, position: int, in_channels: int,
                    out_channels: int, expand_ratio: float,
                    size: int) -> List[Tuple[int, int]]:
        """``(macs, params)`` of a bottleneck's convs (+ BN), with the
        projection shortcut of a stage's first block."""
        stride = self.space.stage_strides[stage] if position == 0 else 1
        out_size = conv_output_size(size, stride)
        mid = bottleneck_width(out_channels, expand_ratio)
        costs = [
            conv_cost(size, in_channels, mid, 1, bn=True),
            conv_cost(out_size, mid, mid, 3, bn=True),
            conv_cost(out_size, mid, out_channels, 1, bn=True)
        ]
        if position == 0:  # the projection shortcut, after pooling
            costs.append(
                conv_cost(out_size, in_channels, out_channels, 1, bn=True))
        return costs

    def head_cost(self, in_channels: int) -> Tuple[int, int]:
        """``(macs, params)`` of the classifier."""
        return conv_cost(
            1, in_channels, self.num_classes, 1, bias=self.classifier_bias)

    def layer_costs(self, subnet: ResNetSubnet,
                    resolution: int) -> List[Tuple[int, int]]:
        """``(macs, params)`` of every conv (+ BN) and the classifier."""
        space = self.space
        costs = self.stem_costs(subnet.width_mult[0], subnet.width_mult[1],
                                space.stem_residual(subnet.stem_depth),
                                resolution)
        channels = space.stem_out_channels(subnet.width_mult[1])
        sizes = self.block_input_sizes(resolution)
        start = 0
        for s, ratios in enumerate(subnet.expand_ratio):
            out = space.stage_out_channels(s, subnet.width_mult[s + 2])
            for b, ratio in enumerate(ratios):
                costs += self.block_costs(s, b, channels, out, ratio,
                                          sizes[start + b])
                channels = out
            start += space.max_depths[s]
        costs.append(self.head_cost(channels))
        return costs

    def macs(self,
             subnet: ResNetSubnet,
             resolution: Optional[int] = None) -> int:
        """MACs per image; resolution defaults to the subnet's, else 224."""
        resolution = resolution or subnet.resolution or 224
        return sum(c[0] for c in self.layer_costs(subnet, resolution))

    def params(self, subnet: ResNetSubnet) -> int:
        """Parameters of the exported subnet."""
        return sum(c[1] for c in self.layer_costs(subnet, 224))

    def __call__(self,
                 subnet: ResNetSubnet,
                 resolution: Optional[int] = None) -> Dict[str, int]:
        resolution = resolution or subnet.resolution or 224
        costs = self.layer_costs(subnet, resolution)
        return dict(
            macs=sum(c[0] for c in costs), params=sum(c[1] for c in costs))
