"""Analytic MACs and parameters of OFA ResNet subnets."""
from typing import Dict, List, Optional, Tuple

from mmofa.structures.resnet_subnet import (ResNetSearchSpace, ResNetSubnet,
                                            bottleneck_width)
from .mobilenet_v3_estimator import _conv_output_size, conv_cost


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

    def layer_costs(self, subnet: ResNetSubnet,
                    resolution: int) -> List[Tuple[int, int]]:
        """``(macs, params)`` of every conv (+ BN) and the classifier."""
        space = self.space
        mid = space.stem_mid_channels(subnet.width_mult[0])
        channels = space.stem_out_channels(subnet.width_mult[1])
        size = _conv_output_size(resolution, 2)
        costs = [conv_cost(size, 3, mid, 3, bn=True)]
        if space.stem_residual(subnet.stem_depth):
            costs.append(conv_cost(size, mid, mid, 3, bn=True))
        costs.append(conv_cost(size, mid, channels, 3, bn=True))
        size = _conv_output_size(size, 2)  # max pooling
        for s, ratios in enumerate(subnet.expand_ratio):
            out = space.stage_out_channels(s, subnet.width_mult[s + 2])
            for b, ratio in enumerate(ratios):
                stride = space.stage_strides[s] if b == 0 else 1
                out_size = _conv_output_size(size, stride)
                mid = bottleneck_width(out, ratio)
                costs += [
                    conv_cost(size, channels, mid, 1, bn=True),
                    conv_cost(out_size, mid, mid, 3, bn=True),
                    conv_cost(out_size, mid, out, 1, bn=True)
                ]
                if b == 0:  # the projection shortcut, after pooling
                    costs.append(
                        conv_cost(out_size, channels, out, 1, bn=True))
                channels, size = out, out_size
        costs.append(
            conv_cost(
                1, channels, self.num_classes, 1, bias=self.classifier_bias))
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
