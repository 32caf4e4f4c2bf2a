"""Convolutions whose active part is a slice of the full weight."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmofa.registry import MODELS
from .slicing import (ActiveWeightCache, CachedActiveWeightMixin, copied_state,
                      dense, slice_weight)


@MODELS.register_module()
class ElasticConv2d(CachedActiveWeightMixin, nn.Conv2d):
    """A convolution with elastic input and output channels.

    The active input channels are the first ``x.size(1)`` of the full weight
    and the active output channels the first ``out_channels``; the weight is
    sliced, never copied.

    Args:
        in_channels (int): Largest number of input channels.
        out_channels (int): Largest number of output channels.
        kernel_size (int): Kernel size (fixed, odd). Defaults to 1.
        stride (int): Stride. Defaults to 1.
        bias (bool): Whether the convolution has a bias. Defaults to False.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 1,
                 stride: int = 1,
                 bias: bool = False):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding=kernel_size // 2,
            bias=bias)
        self._cache = ActiveWeightCache()

    def active_weight(
        self,
        in_channels: int,
        out_channels: Optional[int] = None
    ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Weight and bias of the first ``out_channels`` x ``in_channels``."""
        return slice_weight(self.weight, self.bias, in_channels, out_channels
                            or self.out_channels,
                            type(self).__name__, 'channels')

    def forward(self,
                x: torch.Tensor,
                out_channels: Optional[int] = None) -> torch.Tensor:
        in_channels = x.size(1)
        weight, bias = self._cache.get(
            (in_channels, out_channels), (self.weight, self.bias),
            lambda: tuple(
                t if t is None else dense(t)
                for t in self.active_weight(in_channels, out_channels)))
        return F.conv2d(x, weight, bias, self.stride, self.padding,
                        self.dilation)

    def active_state_dict(self,
                          in_channels: Optional[int] = None,
                          out_channels: Optional[int] = None) -> dict:
        """Copies of the active weight (and bias) for a static ``Conv2d``."""
        return copied_state(
            *self.active_weight(in_channels or self.in_channels, out_channels))


@MODELS.register_module()
class ElasticDepthwiseConv2d(CachedActiveWeightMixin, nn.Conv2d):
    """A depthwise convolution with elastic channels and kernel size.

    Kernels smaller than the largest are made as in Once-for-All (kernel
    transform mode 1): take the centre of the next larger active kernel,
    flatten it and multiply it by a learned ``k*k x k*k`` transform matrix
    shared by all channels (``trans_matrix_7to5``, ``trans_matrix_5to3``),
    step by step from the largest kernel down. Matrices start as identity.
    With ``transform_kernel=False`` a small kernel is the plain centre crop,
    and a state dict with larger kernels loads as their centre crops, its
    transform matrices dropped: so a fixed-kernel supernet (CompOFA) starts
    from a 7x7 teacher as the CompOFA code does.

    Args:
        channels (int): Largest number of channels.
        kernel_sizes (Sequence[int]): Candidate kernel sizes (odd).
        stride (int): Stride. Defaults to 1.
        transform_kernel (bool): Learn transform matrices. Defaults to True.
    """

    def __init__(self,
                 channels: int,
                 kernel_sizes: Sequence[int],
                 stride: int = 1,
                 transform_kernel: bool = True):
        kernel_sizes = tuple(sorted(set(kernel_sizes)))
        if any(k % 2 == 0 or k < 1 for k in kernel_sizes):
            raise ValueError(
                f'kernel sizes must be odd and positive, got {kernel_sizes}')
        max_kernel_size = kernel_sizes[-1]
        super().__init__(
            channels,
            channels,
            max_kernel_size,
            stride,
            padding=max_kernel_size // 2,
            groups=channels,
            bias=False)
        self.kernel_sizes = kernel_sizes
        self.transform_kernel = transform_kernel
        self._cache = ActiveWeightCache()
        # (larger, smaller) pairs from the largest kernel down.
        self._steps = list(zip(kernel_sizes[:0:-1], kernel_sizes[-2::-1]))
        if transform_kernel:
            for larger, smaller in self._steps:
                self.register_parameter(
                    self.matrix_name(larger, smaller),
                    nn.Parameter(torch.eye(smaller * smaller)))

    @staticmethod
    def matrix_name(larger: int, smaller: int) -> str:
        return f'trans_matrix_{larger}to{smaller}'

    def active_weight(self, channels: int, kernel_size: int) -> torch.Tensor:
        """The ``channels x 1 x k x k`` kernel of the active sub-layer."""
        if kernel_size not in self.kernel_sizes:
            raise ValueError(f'kernel size {kernel_size} is not one of '
                             f'{list(self.kernel_sizes)}')
        if channels > self.out_channels:
            raise ValueError(f'{type(self).__name__} has at most '
                             f'{self.out_channels} channels, asked for '
                             f'{channels}')
        weight = self.weight
        if channels < self.out_channels:
            weight = weight[:channels]
        for larger, smaller in self._steps:
            if larger <= kernel_size:
                break
            start = (larger - smaller) // 2
            weight = weight[:, :, start:start + smaller, start:start + smaller]
            if self.transform_kernel:
                matrix = getattr(self, self.matrix_name(larger, smaller))
                weight = F.linear(
                    weight.reshape(channels, smaller * smaller), matrix)
                weight = weight.reshape(channels, 1, smaller, smaller)
        return weight

    def forward(self,
                x: torch.Tensor,
                kernel_size: Optional[int] = None) -> torch.Tensor:
        if kernel_size is None:
            kernel_size = self.kernel_sizes[-1]
        channels = x.size(1)
        matrices = [
            getattr(self, self.matrix_name(*step)) for step in self._steps
        ] if self.transform_kernel else []
        weight = self._cache.get(
            (channels, kernel_size), (self.weight, *matrices),
            lambda: dense(self.active_weight(channels, kernel_size)))
        return F.conv2d(x, weight, None, self.stride, kernel_size // 2,
                        self.dilation, channels)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        weight = state_dict.get(prefix + 'weight')
        size = self.kernel_sizes[-1]
        if not self.transform_kernel and weight is not None and \
                weight.dim() == 4 and weight.shape[2] == weight.shape[3] > \
                size and weight.shape[2] % 2 == 1:
            start = (weight.shape[2] - size) // 2
            state_dict[prefix + 'weight'] = \
                weight[:, :, start:start + size, start:start + size]
            for key in [
                    k for k in state_dict
                    if k.startswith(prefix + 'trans_matrix_')
                    and '.' not in k[len(prefix):]
            ]:
                del state_dict[key]
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def active_state_dict(self,
                          channels: Optional[int] = None,
                          kernel_size: Optional[int] = None) -> dict:
        """A copy of the active (transformed) kernel for a static conv."""
        weight = self.active_weight(channels or self.out_channels, kernel_size
                                    or self.kernel_sizes[-1])
        return {'weight': weight.detach().clone()}
