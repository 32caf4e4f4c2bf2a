from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmofa.registry import MODELS
from .slicing import copied_state, slice_weight


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
        """Weight and bias of the first ``out_features`` x ``in_features``."""
        return slice_weight(self.weight, self.bias, in_features, out_features
                            or self.out_features,
                            type(self).__name__, 'features')

    def forward(self,
                x: torch.Tensor,
                out_features: Optional[int] = None) -> torch.Tensor:
        weight, bias = self.active_weight(x.size(-1), out_features)
        return F.linear(x, weight, bias)

    def active_state_dict(self,
                          in_features: Optional[int] = None,
                          out_features: Optional[int] = None) -> dict:
        """Copies of the active weight and bias for a static ``Linear``."""
        return copied_state(
            *self.active_weight(in_features or self.in_features, out_features))
