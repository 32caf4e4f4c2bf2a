"""Analytic MACs and parameters of OFA MobileNetV3 subnets.

A table holds each elastic block's cost for every (kernel size, expand
ratio); a subnet's cost is the fixed part plus the table entries of its
active blocks. Tables of MACs are built once per resolution.
"""
from typing import Dict, Optional, Tuple

from mmofa.structures import (MobileNetV3SearchSpace, MobileNetV3Subnet,
                              expanded_width, se_mid_channels)
from .conv_cost import conv_cost, conv_output_size


class MobileNetV3ResourceEstimator:
    """MACs and parameters of any subnet of an OFA MobileNetV3 at any size.

    Counts as Once-for-All does (convs and the classifier; see
    :func:`count_macs_params`), and agrees exactly with a hook-based count
    of the exported static model.

    Args:
        space (MobileNetV3SearchSpace): The supernet's search space.
        stage_strides (tuple[int]): Stride of each stage's first block.
        final_expand_channels (int): Width of the final expand layer.
        num_classes (int): Classes of the linear classifier.
        classifier_bias (bool): Whether the classifier has a bias.
    """

    def __init__(self,
                 space: MobileNetV3SearchSpace,
                 stage_strides: Tuple[int, ...],
                 final_expand_channels: int,
                 num_classes: int,
                 classifier_bias: bool = True):
        self.space = space
        self.stage_strides = tuple(stage_strides)
        self.final_expand_channels = final_expand_channels
        self.num_classes = num_classes
        self.classifier_bias = classifier_bias
        self._macs_tables: Dict[int, tuple] = {}
        self._fixed_params, self._block_params = self.tables(224, 'params')

    @classmethod
    def from_backbone(cls,
                      backbone,
                      num_classes: int,
                      classifier_bias: bool = True
                      ) -> 'MobileNetV3ResourceEstimator':
        return cls(backbone.search_space, backbone.layout.stage_strides,
                   backbone.layout.final_expand_channels, num_classes,
                   classifier_bias)

    def _block_cost(self, in_channels: int, out_channels: int, in_size: int,
                    out_size: int, use_se: bool, kernel_size: int,
                    expand_ratio) -> Tuple[int, int]:
        mid = expanded_width(in_channels, expand_ratio)
        parts = []
        if expand_ratio != 1:
            parts.append(conv_cost(in_size, in_channels, mid, 1, bn=True))
        parts.append(
            conv_cost(out_size, mid, mid, kernel_size, groups=mid, bn=True))
        if use_se:
            se_mid = se_mid_channels(mid)
            parts.append(conv_cost(1, mid, se_mid, 1, bias=True))
            parts.append(conv_cost(1, se_mid, mid, 1, bias=True))
        parts.append(conv_cost(out_size, mid, out_channels, 1, bn=True))
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    def tables(self, resolution: int, kind: str) -> Tuple[int, dict]:
        """The fixed cost and ``{(stage, block, k, e): cost}`` of ``kind``
        (``'macs'`` or ``'params'``) at ``resolution``."""
        index = 0 if kind == 'macs' else 1
        space = self.space
        size = conv_output_size(resolution, 2)
        c0, c1 = space.first_channels, space.first_block_channels
        fixed = [
            conv_cost(size, 3, c0, 3, bn=True),
            conv_cost(size, c0, c0, 3, groups=c0, bn=True),
            conv_cost(size, c0, c1, 1, bn=True),
        ]
        blocks = {}
        for s in range(space.num_stages):
            for b in range(space.max_depths[s]):
                stride = self.stage_strides[s] if b == 0 else 1
                out_size = conv_output_size(size, stride)
                for k in space.kernel_sizes[s]:
                    for e in space.expand_ratios[s]:
                        blocks[(s, b, k, e)] = self._block_cost(
                            space.block_in_channels(s, b),
                            space.stage_out_channels[s], size, out_size,
                            space.stage_use_se[s], k, e)[index]
                size = out_size
        last_in = space.stage_out_channels[-1]
        expand, last = self.final_expand_channels, space.last_channels
        fixed += [
            conv_cost(size, last_in, expand, 1, bn=True),
            conv_cost(1, expand, last, 1),
            conv_cost(1, last, self.num_classes, 1, bias=self.classifier_bias),
        ]
        return sum(f[index] for f in fixed), blocks

    def _sum(self, fixed: int, blocks: dict, subnet: MobileNetV3Subnet) -> int:
        total = fixed
        for s, depth in enumerate(subnet.depth):
            for b in range(depth):
                total += blocks[(s, b, subnet.kernel_size[s][b],
                                 subnet.expand_ratio[s][b])]
        return total

    def macs(self,
             subnet: MobileNetV3Subnet,
             resolution: Optional[int] = None) -> int:
        """MACs per image; resolution defaults to the subnet's, else 224."""
        resolution = resolution or subnet.resolution or 224
        if resolution not in self._macs_tables:
            self._macs_tables[resolution] = self.tables(resolution, 'macs')
        return self._sum(*self._macs_tables[resolution], subnet)

    def params(self, subnet: MobileNetV3Subnet) -> int:
        """Parameters of the exported subnet."""
        return self._sum(self._fixed_params, self._block_params, subnet)

    def __call__(self,
                 subnet: MobileNetV3Subnet,
                 resolution: Optional[int] = None) -> Dict[str, int]:
        return dict(
            macs=self.macs(subnet, resolution), params=self.params(subnet))
