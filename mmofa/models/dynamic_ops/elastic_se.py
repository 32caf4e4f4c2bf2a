import torch
import torch.nn as nn

from mmofa.models.bricks import ConvBNAct, global_avg_pool
from mmofa.models.utils import build_activation
from mmofa.registry import MODELS
from mmofa.structures import se_mid_channels
from .elastic_conv import ElasticConv2d


@MODELS.register_module()
class ElasticSqueezeExcitation(nn.Module):
    """Squeeze-excitation over an elastic number of channels.

    The hidden width follows the *active* channels ``C`` of the input:
    ``make_divisible(C // reduction, 8)``, as in Once-for-All's DynamicSE.
    The layout (``conv1.conv``, ``conv2.conv``) matches
    :class:`~mmofa.models.bricks.SqueezeExcitation`.

    Args:
        channels (int): Largest number of channels.
        reduction (int): Width reduction of the hidden layer. Defaults to 4.
    """

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        self.reduction = reduction
        mid_channels = se_mid_channels(channels, reduction)
        self.conv1 = ConvBNAct(
            ElasticConv2d(channels, mid_channels, 1, bias=True),
            act=build_activation('relu'))
        self.conv2 = ConvBNAct(
            ElasticConv2d(mid_channels, channels, 1, bias=True),
            act=build_activation('h_sigmoid'))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.size(1)
        y = self.conv1(
            global_avg_pool(x),
            out_channels=se_mid_channels(channels, self.reduction))
        y = self.conv2(y, out_channels=channels)
        return x * y

    def active_state_dict(self, channels: int) -> dict:
        """Weights of the squeeze-excitation over the first ``channels``."""
        mid_channels = se_mid_channels(channels, self.reduction)
        state = {}
        for name, kwargs in (('conv1', (channels, mid_channels)),
                             ('conv2', (mid_channels, channels))):
            layer_state = getattr(self, name).active_state_dict(
                in_channels=kwargs[0], out_channels=kwargs[1])
            state.update({f'{name}.{k}': v for k, v in layer_state.items()})
        return state
