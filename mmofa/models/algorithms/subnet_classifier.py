"""One subnet of a supernet as a static classifier, for fine-tuning."""
import copy
from typing import List, Optional

import torch
import torch.nn as nn
from mmengine.registry import DefaultScope
from mmpretrain.models import ImageClassifier

from mmofa.models.utils import resize_batch
from mmofa.registry import MODELS
from .ofa import run_teacher, split_distillation


@MODELS.register_module()
class SubnetClassifier(ImageClassifier):
    """The static classifier of ``subnet``, optionally distilled.

    It is the exact model that ``export_subnet`` builds for the subnet (same
    modules, same state-dict keys), so ``load_from`` a checkpoint written by
    ``tools/export_subnet.py`` or by the search starts it from the
    supernet's weights and recalibrated BN statistics. Training batches are
    resized to the subnet's resolution, as the supernet does. With
    ``distillation``, a frozen teacher (by default the supernet's largest
    subnet, from its checkpoint) adds a KD loss; the teacher is kept out of
    the module tree, so it is neither trained nor saved.

    Args:
        supernet (dict): The supernet config: an ``OFA`` model config or its
            ``architecture``.
        subnet: The subnet (a subnet file or any accepted form).
        distillation (dict, optional): ``teacher=dict(checkpoint=...,
            model=None, subnet='max')``, ``loss`` (default
            ``dict(type='mmofa.KDLoss')``, soft cross-entropy) and
            ``teacher_train_mode`` as in :class:`OFA`, except that the
            teacher runs in eval mode by default.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 supernet: dict,
                 subnet,
                 distillation: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if subnet is None:
            raise ValueError('SubnetClassifier needs a subnet (a subnet file '
                             'or any accepted form), got None')
        supernet = copy.deepcopy(supernet)
        if str(supernet.get('type', '')).split('.')[-1] != 'OFA':
            supernet = dict(type='mmofa.OFA', architecture=supernet)
        ofa = MODELS.build(dict(supernet, subnet=subnet, distillation=None))
        cfg = ofa.export_subnet_config()
        cfg.pop('type', None)
        scope = cfg.pop('_scope_', 'mmpretrain')
        cfg.pop('init_cfg', None)
        # Its parts (data preprocessor, losses) come from that scope.
        with DefaultScope.overwrite_default_scope(scope):
            super().__init__(**cfg, init_cfg=init_cfg)
        self.subnet = ofa.dump_subnet(fmt='mmofa')
        self.resolution = ofa.resolution
        self.__dict__['teacher'] = None
        self.distill_loss = None
        if distillation is not None:
            teacher, loss, self.teacher_train_mode = split_distillation(
                distillation, teacher_train_mode=False)
            if not isinstance(teacher, dict):
                raise ValueError(
                    f'distillation teacher = {teacher!r}: expected '
                    "dict(checkpoint=..., model=None, subnet='max')")
            teacher_model = ofa.build_teacher(**teacher)
            teacher_model.requires_grad_(False)
            self.__dict__['teacher'] = teacher_model
            self.distill_loss = MODELS.build(loss)

    @property
    def teacher(self) -> Optional[nn.Module]:
        return self.__dict__['teacher']

    def loss(self, inputs: torch.Tensor, data_samples: List) -> dict:
        if self.resolution is not None and inputs.shape[-1] != \
                self.resolution:
            inputs = resize_batch(inputs, self.resolution)
        logits = self.head(self.extract_feat(inputs))
        losses = self.head._get_loss(logits, data_samples)
        if self.teacher is not None:
            soft = run_teacher(self.teacher, inputs, self.teacher_train_mode)
            losses['loss_kd'] = self.distill_loss(logits, soft)
        return losses
