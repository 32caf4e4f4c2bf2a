"""Analytic MACs and parameters of OFA ResNet subnets."""
from typing import List, Tuple

from mmofa.structures.resnet_subnet import ResNetSubnet, bottleneck_width
from .conv_cost import conv_cost, conv_output_size
from .resource_estimator import ResourceEstimator, stage_block_sizes


class ResNetResourceEstimator(ResourceEstimator):
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
        return stage_block_sizes(resolution, self.space.max_depths,
                                 self.space.stage_strides)

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

    def costs(self, subnet: ResNetSubnet, resolution: int) -> Tuple[int, int]:
        parts = self.layer_costs(subnet, resolution)
        return sum(c[0] for c in parts), sum(c[1] for c in parts)
