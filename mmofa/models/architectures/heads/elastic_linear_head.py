from typing import Optional

import torch.nn as nn

from mmofa.models.dynamic_ops import ElasticLinear
from mmofa.registry import MODELS
from .dropout_linear_head import DropoutLinearClsHead


@MODELS.register_module()
class ElasticLinearClsHead(DropoutLinearClsHead):
    """A linear classifier whose input width follows the features.

    For supernets whose last width is elastic (ResNets): the classifier
    uses the first ``x.size(-1)`` input columns of its full weight, as the
    elastic ops do.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Largest number of input features.
        dropout_rate (float): Dropout before the linear layer. Defaults to 0.
        **kwargs: ``loss``, ``init_cfg``, ``topk``, ``cal_acc`` of
            :class:`DropoutLinearClsHead`.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 dropout_rate: float = 0.0,
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(
            num_classes,
            in_channels,
            dropout_rate=dropout_rate,
            init_cfg=init_cfg,
            **kwargs)
        self.fc = ElasticLinear(in_channels, num_classes)

    def active_fc(self, in_features: int) -> nn.Linear:
        """A plain ``nn.Linear`` holding copies of the weights used for
        ``in_features`` inputs."""
        fc = nn.Linear(in_features, self.num_classes, self.fc.bias
                       is not None).to(self.fc.weight.device)
        fc.load_state_dict(self.fc.active_state_dict(in_features))
        return fc
