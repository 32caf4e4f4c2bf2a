from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.models.heads import LinearClsHead

from mmofa.models.dynamic_ops import ElasticLinear
from mmofa.models.utils import OFAInitMixin
from mmofa.registry import MODELS


@MODELS.register_module()
class DropoutLinearClsHead(OFAInitMixin, LinearClsHead):
    """Dropout then a linear classifier, as Once-for-All's ``LinearLayer``.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Input features.
        dropout_rate (float): Dropout before the linear layer. Defaults to 0.
        elastic_in_channels (bool): Take fewer than ``in_channels``
            features (the first columns of the weight are used), as the
            official ``DynamicLinearLayer`` after a backbone of elastic
            output width (OFA ResNets). Defaults to False.
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
                 elastic_in_channels: bool = False,
                 loss: dict = dict(
                     type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(
            num_classes, in_channels, loss=loss, init_cfg=init_cfg, **kwargs)
        self.dropout_rate = dropout_rate
        self.dropout = nn.Dropout(dropout_rate) if dropout_rate > 0 else None
        if elastic_in_channels:
            self.fc = ElasticLinear(in_channels, num_classes)

    @staticmethod
    def export_config(cfg: dict, in_channels: int) -> dict:
        """The config of a static head of ``in_channels`` inputs, from
        this head's config ``cfg``."""
        cfg = dict(cfg, in_channels=in_channels)
        cfg.pop('elastic_in_channels', None)
        return cfg

    def export_state_dict(self, in_channels: int) -> dict:
        """Copies of the weights for a head of ``in_channels`` inputs
        (the first columns of the classifier)."""
        if isinstance(self.fc, ElasticLinear):
            state = self.fc.active_state_dict(in_features=in_channels)
            return {f'fc.{k}': v for k, v in state.items()}
        if in_channels != self.in_channels:
            raise ValueError(
                f'{type(self).__name__} takes {self.in_channels} features, '
                f'not {in_channels}; set elastic_in_channels=True')
        return {k: v.detach().clone() for k, v in self.state_dict().items()}

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        x = feats[-1]
        return self.dropout(x) if self.dropout is not None else x
