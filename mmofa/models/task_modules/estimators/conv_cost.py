"""The cost of a convolution as Once-for-All counts it, for every family's
estimator."""
from typing import Tuple


def conv_cost(out_size: int,
              in_channels: int,
              out_channels: int,
              kernel_size: int,
              groups: int = 1,
              bias: bool = False,
              bn: bool = False) -> Tuple[int, int]:
    """MACs (per sample) and parameters of a square conv (+ BN)."""
    weights = in_channels // groups * out_channels * kernel_size**2
    params = weights + (out_channels if bias else 0) + (2 * out_channels
                                                        if bn else 0)
    return out_size * out_size * weights, params


def conv_output_size(size: int, stride: int) -> int:
    """Output side of an odd-kernel conv with 'same' padding."""
    return (size - 1) // stride + 1
