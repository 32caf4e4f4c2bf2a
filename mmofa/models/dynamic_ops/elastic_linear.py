from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmofa.registry import MODELS


@MODELS.register_module()
class ElasticLinear(nn.Linear):
    """A linear layer with elastic input and output features.

    The active input features are the first ``x.size(-1)`` and the active
    output features the first ``out_features``; the weight is sliced.
    """

    def active_weight(
        self,
        in_features: int,
        out_features: Optional[int] = None
    ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        if out_features is None:
            out_features = self.out_features
        if in_features > self.in_features or out_features > self.out_features:
            raise ValueError(
                f'{type(self).__name__} has at most {self.in_features} input '
                f'and {self.out_features} output features; asked for '
                f'{in_features} -> {out_features}')
        weight = self.weight[:out_features, :in_features]
        bias = None if self.bias is None else self.bias[:out_features]
        return weight, bias

    def forward(self,
                x: torch.Tensor,
                out_features: Optional[int] = None) -> torch.Tensor:
        weight, bias = self.active_weight(x.size(-1), out_features)
        return F.linear(x, weight, bias)

    def active_state_dict(self,
                          in_features: Optional[int] = None,
                          out_features: Optional[int] = None) -> dict:
        """Copies of the active weight and bias for a static ``Linear``."""
        weight, bias = self.active_weight(in_features or self.in_features,
                                          out_features)
        state = {'weight': weight.detach().clone()}
        if bias is not None:
            state['bias'] = bias.detach().clone()
        return state
