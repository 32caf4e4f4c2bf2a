from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmofa.registry import MODELS


@MODELS.register_module()
class ElasticBatchNorm2d(nn.BatchNorm2d):
    """Batch norm over the first ``x.size(1)`` channels of the full layer.

    Weight, bias and running statistics are sliced, not copied, so in
    training only the active slice of the running statistics is updated.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.size(1)
        if channels == self.num_features:
            return super().forward(x)
        if channels > self.num_features:
            raise ValueError(f'{type(self).__name__} has {self.num_features} '
                             f'channels, the input has {channels}')
        momentum = 0.0
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked)
            else:
                momentum = self.momentum
        use_batch_stats = self.training or self.running_mean is None
        keep_stats = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean[:channels] if keep_stats else None,
            self.running_var[:channels] if keep_stats else None,
            self.weight[:channels] if self.affine else None,
            self.bias[:channels] if self.affine else None,
            use_batch_stats,
            momentum,
            self.eps,
        )

    def active_state_dict(self, num_features: Optional[int] = None) -> dict:
        """Copies of the first ``num_features`` entries for a static BN."""
        num_features = num_features or self.num_features
        state = {}
        for name, tensor in self.state_dict(keep_vars=True).items():
            tensor = tensor.detach()
            state[name] = (tensor[:num_features]
                           if tensor.dim() else tensor).clone()
        return state
