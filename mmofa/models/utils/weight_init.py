import math

import torch.nn as nn


def ofa_init_weights(module: nn.Module) -> None:
    """Once-for-All's ``he_fout`` initialisation of every layer in ``module``.

    Convs: normal(0, sqrt(2 / (k_h * k_w * out_channels))), bias 0; batch
    norms: weight 1, bias 0; linears: uniform(+-1 / sqrt(in_features)),
    bias 0. Kernel transform matrices keep their identity.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            nn.init.normal_(m.weight, 0, math.sqrt(2.0 / fan_out))
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            bound = 1.0 / math.sqrt(m.weight.size(1))
            nn.init.uniform_(m.weight, -bound, bound)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class OFAInitMixin:
    """Once-for-All's initialisation when no ``init_cfg`` is given.

    Mix into an mmengine ``BaseModule`` before it:
    ``class Backbone(OFAInitMixin, BaseModule)``.
    """

    def init_weights(self) -> None:
        super().init_weights()
        if self.init_cfg is None:
            ofa_init_weights(self)
