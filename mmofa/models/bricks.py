"""Plain building blocks shared by the static networks and the supernets."""
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from mmofa.models.utils import build_activation
from mmofa.structures import se_mid_channels


class ConvBNAct(nn.Module):
    """A convolution, an optional batch norm and an optional activation.

    The children are named ``conv``, ``bn`` and ``act`` so that state dicts
    read ``<name>.conv.weight`` and ``<name>.bn.running_mean``. Keyword
    arguments of :meth:`forward` go to the convolution, which lets an elastic
    convolution take its active width or kernel size.
    """

    def __init__(self,
                 conv: nn.Module,
                 bn: Optional[nn.Module] = None,
                 act: Optional[nn.Module] = None):
        super().__init__()
        self.conv = conv
        self.bn = bn
        self.act = act

    def forward(self, x: torch.Tensor, **conv_kwargs) -> torch.Tensor:
        x = self.conv(x, **conv_kwargs)
        if self.bn is not None:
            x = self.bn(x)
        if self.act is not None:
            x = self.act(x)
        return x

    def active_state_dict(self, **conv_kwargs) -> dict:
        """Weights of the active sub-layer of an elastic conv and norm."""
        state = prefixed('conv.', self.conv.active_state_dict(**conv_kwargs))
        if self.bn is not None:
            out_channels = state['conv.weight'].shape[0]
            state.update(
                prefixed('bn.', self.bn.active_state_dict(out_channels)))
        return state


def prefixed(prefix: str, state: dict) -> dict:
    """``state`` with every key prefixed (a submodule's state in its
    parent's)."""
    return {prefix + key: value for key, value in state.items()}


class ResidualBlock(nn.Module):
    """``ReLU(convs(x) + shortcut(x))``: the residual block of the ResNet
    families, static or elastic.

    A subclass builds the convs named in ``conv_names`` (applied in that
    order) and ``downsample`` (None: the shortcut is the input). An elastic
    block says the active ``(in, out)`` channels of each of these layers in
    :meth:`active_widths`; forward passes each its output width, and
    :meth:`active_state_dict` gives the weights of the family's static
    block.
    """
    conv_names: Tuple[str, ...] = ()

    def __init__(self):
        super().__init__()
        self.downsample = None
        self.final_act = build_activation('relu')

    def active_widths(self, in_channels: int) -> Dict[str, Tuple[int, int]]:
        """``{layer: (in, out) channels}`` of the active block for an
        input of ``in_channels``; empty for a static block."""
        return {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        widths = self.active_widths(x.size(1))

        def width_of(name: str) -> dict:
            return dict(out_channels=widths[name][1]) if widths else {}

        shortcut = x if self.downsample is None else self.downsample(
            x, **width_of('downsample'))
        out = x
        for name in self.conv_names:
            out = getattr(self, name)(out, **width_of(name))
        return self.final_act(out + shortcut)

    def active_state_dict(self, in_channels: int) -> dict:
        """The active block's weights, keyed as the static block's."""
        state = {}
        for name, (layer_in,
                   layer_out) in self.active_widths(in_channels).items():
            layer = getattr(self, name)
            if layer is not None:
                state.update(
                    prefixed(
                        f'{name}.',
                        layer.active_state_dict(
                            in_channels=layer_in, out_channels=layer_out)))
        return state


def global_avg_pool(x: torch.Tensor) -> torch.Tensor:
    """Mean over height then width, keeping dims, in Once-for-All's order."""
    return x.mean(3, keepdim=True).mean(2, keepdim=True)


class GlobalAvgPool(nn.Module):
    """Module form of :func:`global_avg_pool`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return global_avg_pool(x)


class SqueezeExcitation(nn.Module):
    """Squeeze-excitation: pool, 1x1 reduce + ReLU, 1x1 expand + h_sigmoid.

    Args:
        channels (int): Channels of the input.
        reduction (int): The hidden width is
            ``make_divisible(channels // reduction, 8)``. Defaults to 4.
    """

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        mid_channels = se_mid_channels(channels, reduction)
        self.conv1 = ConvBNAct(
            nn.Conv2d(channels, mid_channels, 1, bias=True),
            act=build_activation('relu'))
        self.conv2 = ConvBNAct(
            nn.Conv2d(mid_channels, channels, 1, bias=True),
            act=build_activation('h_sigmoid'))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.conv2(self.conv1(global_avg_pool(x)))


def conv_bn_act(in_channels: int,
                out_channels: int,
                kernel_size: int,
                stride: int = 1,
                act: Optional[str] = None,
                with_bn: bool = True,
                groups: int = 1,
                norm_cfg: Optional[dict] = None) -> ConvBNAct:
    """A plain ``ConvBNAct`` with 'same' padding and no conv bias."""
    conv = nn.Conv2d(
        in_channels,
        out_channels,
        kernel_size,
        stride,
        padding=kernel_size // 2,
        groups=groups,
        bias=False)
    bn = nn.BatchNorm2d(out_channels, **(norm_cfg or {})) if with_bn else None
    return ConvBNAct(conv, bn, build_activation(act))


def build_last_conv(in_channels: int,
                    expand_channels: int,
                    out_channels: int,
                    norm_cfg: Optional[dict] = None) -> nn.Sequential:
    """MobileNetV3's tail: 1x1 expand + BN + h_swish, pool, 1x1 mix."""
    return nn.Sequential(
        OrderedDict(
            final_expand_layer=conv_bn_act(
                in_channels,
                expand_channels,
                1,
                act='h_swish',
                norm_cfg=norm_cfg),
            pool=GlobalAvgPool(),
            feature_mix_layer=conv_bn_act(
                expand_channels, out_channels, 1, act='h_swish',
                with_bn=False)))


def max_pool() -> nn.MaxPool2d:
    """The 3x3 stride-2 max pooling after a ResNet's input stem."""
    return nn.MaxPool2d(kernel_size=3, stride=2, padding=1)


def forward_stages(net: nn.Module, x: torch.Tensor) -> Tuple[torch.Tensor]:
    """A static ResNet's forward: ``stem``, ``max_pool``, ``layer1`` to
    ``layer{num_stages}``, global average pooling."""
    x = net.max_pool(net.stem(x))
    for s in range(net.num_stages):
        x = getattr(net, f'layer{s + 1}')(x)
    return (global_avg_pool(x).flatten(1), )
