import torch
import torch.nn as nn
import torch.nn.functional as F

from mmofa.registry import MODELS


@MODELS.register_module()
class KDLoss(nn.Module):
    """Knowledge distillation from a teacher's logits.

    Args:
        kd_type (str): ``'ce'``: cross entropy with the teacher's softmax as
            soft labels (Once-for-All's default); ``'mse'``: mean squared
            error between logits; ``'kl'``: KL divergence between softmaxes
            at ``temperature``, times ``temperature ** 2``.
        temperature (float): Softmax temperature of ``'kl'`` (and ``'ce'``).
            Defaults to 1.
        loss_weight (float): The ``kd_ratio``. Defaults to 1.
    """
    KD_TYPES = ('ce', 'mse', 'kl')

    def __init__(self,
                 kd_type: str = 'ce',
                 temperature: float = 1.0,
                 loss_weight: float = 1.0):
        super().__init__()
        if kd_type not in self.KD_TYPES:
            raise ValueError(f'kd_type={kd_type!r} is not supported; '
                             f'allowed: {list(self.KD_TYPES)}')
        if temperature <= 0:
            raise ValueError(f'temperature={temperature} must be positive')
        self.kd_type = kd_type
        self.temperature = temperature
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor,
                teacher_logits: torch.Tensor) -> torch.Tensor:
        teacher_logits = teacher_logits.detach()
        if self.kd_type == 'mse':
            loss = F.mse_loss(logits, teacher_logits)
        else:
            t = self.temperature
            soft_labels = F.softmax(teacher_logits / t, dim=1)
            log_probs = F.log_softmax(logits / t, dim=1)
            if self.kd_type == 'ce':
                loss = torch.mean(torch.sum(-soft_labels * log_probs, dim=1))
            else:
                loss = F.kl_div(
                    log_probs, soft_labels, reduction='batchmean') * t * t
        return self.loss_weight * loss
