"""One subnet of a supernet as a static classifier, to test, train or
fine-tune."""
import copy
from typing import List, Optional

import torch
import torch.nn as nn
from mmengine.registry import DefaultScope
from mmpretrain.models import ImageClassifier

from mmofa.models.utils import resize_batch
from mmofa.registry import MODELS
from mmofa.structures import check_resolution
from .ofa import (build_teacher, current_iteration, draw_resolution,
                  parse_resolutions, run_teacher, split_distillation)

#: The total stride of the static networks mmofa exports (5 halvings).
STATIC_MIN_RESOLUTION = 32


@MODELS.register_module()
class SubnetClassifier(ImageClassifier):
    """The static classifier of one subnet, optionally distilled.

    It is the exact model that ``export_subnet`` builds for the subnet (same
    modules, same state-dict keys), so ``load_from`` a checkpoint written by
    ``tools/export_subnet.py`` or by the search starts it from the
    supernet's weights and recalibrated BN statistics. It trains as the
    subnet trains inside the supernet: batches resized to the subnet's
    resolution (or, with ``resolutions``, to a size drawn per iteration as
    ``OFA`` draws it), optionally channels-last, optionally distilled from
    a frozen teacher (kept out of the module tree: neither trained nor
    saved).

    Give either ``supernet`` and ``subnet`` (the static model is derived
    from the supernet) or ``architecture``, the static classifier's own
    config (what ``save_subnet`` writes next to an exported subnet).

    Args:
        supernet (dict, optional): The supernet config: an ``OFA`` model
            config or its ``architecture``.
        subnet: The subnet (a subnet file or any accepted form); with
            ``architecture``, its mmofa mapping (kept as a record).
        architecture (dict, optional): The static classifier config.
        resolution (int, optional): Input size of evaluation and of
            training without ``resolutions``; defaults to the subnet's.
        resolutions: Training sizes drawn per iteration (a list, or
            ``dict(start, stop, step)``), as ``OFA``'s ``resolutions``.
        sampling_seed (int): Seed of the size draws. Defaults to 0.
        channels_last (bool): Weights and activations channels-last.
            Defaults to False.
        distillation (dict, optional): ``teacher=dict(checkpoint=...,
            model=None, subnet='max')`` (``model`` defaults to the
            supernet: needed with ``architecture``), ``loss`` (default
            ``dict(type='mmofa.KDLoss')``) and ``teacher_train_mode``
            (default False).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 supernet: Optional[dict] = None,
                 subnet=None,
                 architecture: Optional[dict] = None,
                 resolution: Optional[int] = None,
                 resolutions=None,
                 sampling_seed: int = 0,
                 channels_last: bool = False,
                 distillation: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if (supernet is None) == (architecture is None):
            raise ValueError('SubnetClassifier takes supernet (with subnet) '
                             'or architecture (a static classifier config), '
                             'exactly one of them')
        teacher_model = None
        if supernet is not None:
            if subnet is None:
                raise ValueError('SubnetClassifier needs a subnet (a subnet '
                                 'file or any accepted form), got None')
            supernet = copy.deepcopy(supernet)
            if str(supernet.get('type', '')).split('.')[-1] != 'OFA':
                supernet = dict(type='mmofa.OFA', architecture=supernet)
            ofa = MODELS.build(
                dict(supernet, subnet=subnet, distillation=None))
            architecture = ofa.export_subnet_config()
            subnet = ofa.dump_subnet(fmt='mmofa')
            teacher_model = dict(
                type='mmofa.OFA', architecture=supernet['architecture'])
        cfg = copy.deepcopy(architecture)
        cfg.pop('type', None)
        scope = cfg.pop('_scope_', 'mmpretrain')
        cfg.pop('init_cfg', None)
        # Its parts (data preprocessor, losses) come from that scope.
        with DefaultScope.overwrite_default_scope(scope):
            super().__init__(**cfg, init_cfg=init_cfg)
        self.architecture_cfg = architecture
        self.subnet = subnet
        if resolution is None and isinstance(subnet, dict):
            resolution = subnet.get('resolution')
        self.resolution = None if resolution is None else check_resolution(
            resolution, 'SubnetClassifier resolution', STATIC_MIN_RESOLUTION)
        self.min_resolution = STATIC_MIN_RESOLUTION
        self.resolutions = parse_resolutions(resolutions,
                                             STATIC_MIN_RESOLUTION)
        self.sampling_seed = sampling_seed
        self._step_count = 0
        self.channels_last = bool(channels_last)
        if self.channels_last:
            self.to(memory_format=torch.channels_last)
        self.__dict__['teacher'] = None
        self.distill_loss = None
        if distillation is not None:
            teacher, loss, self.teacher_train_mode = split_distillation(
                distillation, teacher_train_mode=False)
            if not isinstance(teacher, dict):
                raise ValueError(
                    f'distillation teacher = {teacher!r}: expected '
                    "dict(checkpoint=..., model=None, subnet='max')")
            teacher = dict(teacher)
            teacher.setdefault('model', teacher_model)
            teacher_net = build_teacher(**teacher)
            teacher_net.requires_grad_(False)
            if self.channels_last:
                teacher_net.to(memory_format=torch.channels_last)
            self.__dict__['teacher'] = teacher_net
            self.distill_loss = MODELS.build(loss)

    @property
    def teacher(self) -> Optional[nn.Module]:
        return self.__dict__['teacher']

    def to_memory_format(self, inputs: torch.Tensor) -> torch.Tensor:
        """A batch of images in this model's memory format."""
        if self.channels_last and inputs.dim() == 4:
            return inputs.contiguous(memory_format=torch.channels_last)
        return inputs

    def training_size(self) -> Optional[int]:
        """The size this training step resizes its batch to (None: as the
        data comes)."""
        if self.resolutions is not None:
            return draw_resolution(self.resolutions, self.sampling_seed,
                                   current_iteration(self._step_count))
        return self.resolution

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if isinstance(inputs, torch.Tensor):
            inputs = self.to_memory_format(inputs)
        return super().forward(inputs, data_samples, mode)

    def loss(self, inputs: torch.Tensor, data_samples: List) -> dict:
        size = self.training_size()
        self._step_count += 1
        if size is not None and inputs.shape[-1] != size:
            inputs = self.to_memory_format(resize_batch(inputs, size))
        logits = self.head(self.extract_feat(inputs))
        losses = self.head._get_loss(logits, data_samples)
        if self.teacher is not None:
            soft = run_teacher(self.teacher, inputs, self.teacher_train_mode)
            losses['loss_kd'] = self.distill_loss(logits, soft)
        return losses
