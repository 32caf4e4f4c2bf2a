from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.models.heads import LinearClsHead

from mmofa.models.utils import OFAInitMixin
from mmofa.registry import MODELS


@MODELS.register_module()
class DropoutLinearClsHead(OFAInitMixin, LinearClsHead):
    """Dropout then a linear classifier, as Once-for-All's ``LinearLayer``.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Input features.
        dropout_rate (float): Dropout before the linear layer. Defaults to 0.
        loss (dict): Classification loss. Defaults to mmpretrain's
            ``CrossEntropyLoss``, named with its scope so that the head
            builds from any default scope.
        init_cfg (dict, optional): Initialisation config; by default the
            official uniform(+-1/sqrt(in_channels)) weights and zero bias.
        **kwargs: ``topk``, ``cal_acc`` of ``LinearClsHead``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 dropout_rate: float = 0.0,
                 loss: dict = dict(
                     type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(
            num_classes, in_channels, loss=loss, init_cfg=init_cfg, **kwargs)
        self.dropout_rate = dropout_rate
        self.dropout = nn.Dropout(dropout_rate) if dropout_rate > 0 else None

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        x = feats[-1]
        return self.dropout(x) if self.dropout is not None else x
