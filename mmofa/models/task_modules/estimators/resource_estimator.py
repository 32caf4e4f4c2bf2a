"""What every family's analytic resource estimator shares."""
from typing import Dict, List, Optional, Sequence, Tuple

from .conv_cost import conv_cost, conv_output_size


class ResourceEstimator:
    """MACs and parameters of any subnet of one supernet at any size.

    A family's estimator implements :meth:`costs` from its per-part costs
    (the same functions its population codec's cost slots read); the
    totals, the classifier's cost and the resolution defaults are here.
    Counting is Once-for-All's (convs and the classifier; batch norms add
    their affine parameters, no MACs; see :func:`count_macs_params`).

    Args:
        space: The supernet's search space.
        num_classes (int): Classes of the linear classifier.
        classifier_bias (bool): Whether the classifier has a bias.
    """

    def __init__(self, space, num_classes: int, classifier_bias: bool = True):
        self.space = space
        self.num_classes = num_classes
        self.classifier_bias = classifier_bias

    def costs(self, subnet, resolution: int) -> Tuple[int, int]:
        """``(macs, params)`` of ``subnet`` at ``resolution``."""
        raise NotImplementedError

    def head_cost(self, in_channels: int) -> Tuple[int, int]:
        """``(macs, params)`` of the classifier."""
        return conv_cost(
            1, in_channels, self.num_classes, 1, bias=self.classifier_bias)

    def macs(self, subnet, resolution: Optional[int] = None) -> int:
        """MACs per image; resolution defaults to the subnet's, else 224."""
        return self.costs(subnet, resolution or subnet.resolution or 224)[0]

    def params(self, subnet) -> int:
        """Parameters of the exported subnet (the same at every size)."""
        return self.costs(subnet, self.space.min_resolution)[1]

    def __call__(self,
                 subnet,
                 resolution: Optional[int] = None) -> Dict[str, int]:
        macs, params = self.costs(subnet, resolution or subnet.resolution
                                  or 224)
        return dict(macs=macs, params=params)


def stage_block_sizes(
    resolution: int,
    max_depths: Sequence[int],
    stage_strides: Sequence[int],
    stem_strides: Sequence[int] = (2, 2)
) -> List[int]:
    """The input side of every block of a staged network, in order: after
    the stem's strided layers, each stage's first block strides."""
    size = resolution
    for stride in stem_strides:
        size = conv_output_size(size, stride)
    sizes = []
    for s, max_depth in enumerate(max_depths):
        for b in range(max_depth):
            sizes.append(size)
            if b == 0:
                size = conv_output_size(size, stage_strides[s])
    return sizes
