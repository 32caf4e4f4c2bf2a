"""The Once-for-All algorithm: a supernet, its mutator, its training step."""
import copy
import logging
import random
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmengine.structures import BaseDataElement

from mmofa.models.architectures.backbones.elastic_backbone import \
    check_elastic_backbone
from mmofa.models.mutators.ofa_mutator import check_granularity
from mmofa.models.utils import resize_batch
from mmofa.registry import MODELS
from mmofa.structures import check_resolution
from mmofa.utils.arguments import check_keys

# How a training step picks its subnets (see ``OFA``, ``sampling``).
STRATEGIES = ('uniform', 'max', 'min', 'sandwich')


def parse_resolutions(resolutions, minimum: int = 1) -> Optional[tuple]:
    """A list of sizes, or ``dict(start, stop, step)`` with stop included;
    each an integer of at least ``minimum`` pixels."""
    if resolutions is None:
        return None
    if isinstance(resolutions, dict):
        check_keys(resolutions, ('step', ), 'resolutions (a dict)',
                   ('start', 'stop'), ValueError)
        step = resolutions.get('step', 1)
        resolutions = range(resolutions['start'], resolutions['stop'] + 1,
                            step)
    sizes = tuple(resolutions)
    if not sizes:
        raise ValueError('resolutions must not be empty')
    for size in sizes:
        check_resolution(size, 'model.resolutions', minimum)
    return sizes


@MODELS.register_module()
class OFA(BaseModel):
    """A Once-for-All supernet classifier with its subnet controls.

    Training (:meth:`train_step`) follows the official progressive
    shrinking step: draw ``num_subnets`` subnets under the mutator's
    constraints (seeded from the iteration, so every rank draws the same),
    run forward and backward for each on the same batch (optionally resized
    to one size drawn from ``resolutions``), sum their gradients and step
    the optimizer once. ``sampling`` picks which subnets a step trains
    (progressive shrinking, RSS, sandwich).

    Args:
        architecture (dict | nn.Module): The supernet classifier, e.g. an
            ``mmpretrain.ImageClassifier`` with an ``OFAMobileNetV3``
            backbone. Give a config to be able to export subnets.
        mutator (dict): The mutator. Defaults to ``dict(type='OFAMutator')``.
        num_subnets (int): Subnets per training step. Defaults to 1; the
            progressive shrinking hook sets it per stage.
        sampling (dict): Which subnets a step trains: ``strategy``
            ``'uniform'`` (each drawn at random, the default), ``'max'``
            or ``'min'`` (the largest or smallest: a teacher stage, RSS
            anchors) or ``'sandwich'`` (the largest, the smallest, then
            random ones; the largest learns from the labels, the others
            also from its detached logits: in-place distillation);
            ``granularity`` of random draws: ``'layer'``,
            ``'stage'`` or ``'network'`` (see
            :meth:`OFAMutator.sample_choices`). All under the mutator's
            constraints. Defaults to ``dict(strategy='uniform',
            granularity='layer')``; the progressive shrinking and RSS hooks
            may set it per stage.
        resolutions (list | dict, optional): Training sizes, one per batch
            (``dict(start=128, stop=224, step=4)`` is the official set). None
            keeps the size of the data.
        sampling_seed (int): Seed of subnet and size sampling. Defaults to 0.
        nonfinite_loss (str): A NaN or infinite subnet loss ``'raise'``s an
            error naming the iteration and the subnet, or ``'skip'``s the
            step (no update; all processes agree). Defaults to 'raise'.
        distillation (dict, optional): Knowledge distillation:
            ``teacher``: ``'inplace'`` (the supernet's largest subnet) or
            ``dict(checkpoint=..., model=None, subnet='max')`` (a separate
            model, by default this supernet's architecture at its max
            subnet; ``model`` may be a config dict or file, see
            :meth:`build_teacher`); ``loss``: a loss config, by default
            ``dict(type='mmofa.KDLoss', kd_type='ce', loss_weight=1.0)``,
            also used by sandwich sampling's in-place distillation;
            ``teacher_train_mode``: run the teacher in train mode (batch
            statistics, no dropout) as the official code does. Defaults to
            True.
        subnet (optional): A subnet to activate at build time, in any
            accepted form (e.g. to test one subnet).
        channels_last (bool): Keep weights and activations channels-last
            (NHWC). About 1.9x faster PS training steps on the 2-core
            benchmark CPU (docs/benchmarks.md) and the usual layout for AMP
            on GPUs;
            results equal the default layout's up to float rounding.
            Defaults to False (bitwise the official code's layout).
        data_preprocessor (dict, optional): Defaults to the architecture's.
        init_cfg (dict, optional): Initialisation config.

    ``model(images, mode='tensor')`` returns the logits of the active subnet.
    """

    def __init__(self,
                 architecture: Union[dict, nn.Module],
                 mutator: Union[dict, nn.Module] = dict(type='OFAMutator'),
                 num_subnets: int = 1,
                 sampling: Optional[dict] = None,
                 resolutions=None,
                 sampling_seed: int = 0,
                 nonfinite_loss: str = 'raise',
                 distillation: Optional[dict] = None,
                 subnet=None,
                 channels_last: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        self._architecture_cfg = None
        if isinstance(architecture, dict):
            self._architecture_cfg = copy.deepcopy(architecture)
            architecture = MODELS.build(architecture)
        if data_preprocessor is None:
            data_preprocessor = getattr(architecture, 'data_preprocessor',
                                        None)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.architecture = architecture
        check_elastic_backbone(self.backbone)
        if isinstance(mutator, dict):
            mutator = MODELS.build(mutator)
        self.mutator = mutator
        self.mutator.prepare_from_supernet(self.architecture)
        self.resolution: Optional[int] = None
        self._resource_estimator = None

        self.num_subnets = num_subnets
        self.resolutions = parse_resolutions(resolutions,
                                             self.search_space.min_resolution)
        self.sampling_seed = sampling_seed
        if nonfinite_loss not in ('raise', 'skip'):
            raise ValueError(f'nonfinite_loss={nonfinite_loss!r}; allowed: '
                             "'raise', 'skip'")
        self.nonfinite_loss = nonfinite_loss
        self._step_count = 0
        self.channels_last = bool(channels_last)
        if self.channels_last:
            self.architecture.to(memory_format=torch.channels_last)
        self._build_distillation(distillation)
        self.sampling = sampling
        if subnet is not None:
            self.set_subnet(subnet)

    @property
    def num_subnets(self) -> int:
        return self._num_subnets

    @num_subnets.setter
    def num_subnets(self, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f'num_subnets = {value!r} must be a positive '
                             'integer')
        self._num_subnets = value

    @property
    def sampling(self) -> Dict[str, str]:
        return dict(self._sampling)

    @sampling.setter
    def sampling(self, value: Optional[dict]) -> None:
        value = dict(value or {})
        check_keys(value, ('strategy', 'granularity'), 'sampling')
        value = dict(dict(strategy='uniform', granularity='layer'), **value)
        if value['strategy'] not in STRATEGIES:
            raise ValueError(f'sampling strategy {value["strategy"]!r}; '
                             f'allowed: {list(STRATEGIES)}')
        check_granularity(value['granularity'])
        _refuse_teacher_with_sandwich(
            value['strategy'], self.inplace_teacher
            or self.teacher is not None)
        self._sampling = value

    def check_subnets_per_step(self) -> None:
        """The strategy's minimum of subnets per step (checked per step:
        hooks change both)."""
        needed = 2 if self._sampling['strategy'] == 'sandwich' else 1
        if self.num_subnets < needed:
            raise ValueError(
                f'sampling strategy {self._sampling["strategy"]!r} trains at '
                f'least {needed} subnets per step, num_subnets is '
                f'{self.num_subnets}')

    @property
    def backbone(self) -> nn.Module:
        return self.architecture.backbone

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor'):
        """Run the active subnet; modes as in ``ImageClassifier``."""
        return self.architecture(
            self.to_memory_format(inputs), data_samples, mode)

    def to_memory_format(self, inputs: torch.Tensor) -> torch.Tensor:
        """A batch of images in this model's memory format."""
        if self.channels_last and inputs.dim() == 4:
            return inputs.contiguous(memory_format=torch.channels_last)
        return inputs

    # ----------------------------------------------------------- training
    def _build_distillation(self, distillation: Optional[dict]) -> None:
        teacher, loss, self.teacher_train_mode = split_distillation(
            distillation, teacher_train_mode=True)
        # Also the loss of a teacher set later (a hook's) and of sandwich
        # sampling's in-place distillation.
        self.distill_loss = MODELS.build(loss)
        self.inplace_teacher = teacher == 'inplace'
        # Kept out of the module tree: not trained, not in checkpoints.
        self.__dict__['teacher'] = None
        if isinstance(teacher, dict):
            self.set_teacher(self.build_teacher(**teacher))
        elif teacher not in (None, 'inplace'):
            raise ValueError(f"teacher must be None, 'inplace' or a dict "
                             f'(checkpoint, model, subnet), got {teacher!r}')

    def build_teacher(self,
                      checkpoint: Optional[str] = None,
                      model: Union[dict, str, None] = None,
                      subnet='max') -> nn.Module:
        """A frozen teacher (see :func:`build_teacher`); ``model``
        defaults to this supernet's architecture in an ``OFA`` model."""
        if model is None:
            if self._architecture_cfg is None:
                raise RuntimeError('give the teacher model config: this '
                                   'supernet was not built from a config')
            model = dict(type='mmofa.OFA', architecture=self._architecture_cfg)
        return build_teacher(checkpoint, model, subnet)

    def set_teacher(self, teacher: Optional[nn.Module]) -> None:
        """Use ``teacher`` (frozen) for distillation; None for none."""
        if teacher is not None:
            # (Before ``sampling`` is set, its setter checks the teacher.)
            _refuse_teacher_with_sandwich(
                getattr(self, '_sampling', {}).get('strategy'), True)
            teacher.requires_grad_(False)
            if self.channels_last:
                teacher.to(memory_format=torch.channels_last)
        self.__dict__['teacher'] = teacher

    def _iteration(self) -> int:
        """The runner's iteration, or this model's own step count."""
        return current_iteration(self._step_count)

    def sample_resolution(self, iteration: int) -> Optional[int]:
        """The training size of ``iteration`` (the same on every rank)."""
        return draw_resolution(self.resolutions, self.sampling_seed, iteration)

    def subnet_generator(self, iteration: int, index: int) -> random.Random:
        """The generator of subnet ``index`` of ``iteration``."""
        return random.Random(f'{self.sampling_seed}-{iteration}-{index}')

    def sample_training_subnet(self, iteration: int, index: int):
        """Activate subnet ``index`` of the step of ``iteration`` under the
        sampling strategy (the same in every process) and return it."""
        strategy = self._sampling['strategy']
        mode = strategy if strategy in ('max', 'min') else 'random'
        if strategy == 'sandwich' and index < 2:
            mode = ('max', 'min')[index]
        return self.sample_subnet(mode,
                                  self.subnet_generator(iteration, index),
                                  self._sampling['granularity'])

    @torch.no_grad()
    def teacher_logits(self, inputs: torch.Tensor) -> Optional[torch.Tensor]:
        """Soft targets of the batch, or None without distillation."""
        if self.inplace_teacher:
            self.mutator.set_choices(
                self.mutator.sample_choices('max', constrained=False))
            return self.architecture(inputs, mode='tensor').detach()
        if self.teacher is None:
            return None
        return run_teacher(self.teacher, inputs, self.teacher_train_mode)

    def subnet_losses(self,
                      inputs: torch.Tensor,
                      data_samples: List[BaseDataElement],
                      teacher_logits: Optional[torch.Tensor],
                      return_logits: bool = False):
        """Classification (and distillation) losses of the active subnet
        (and its logits with ``return_logits``)."""
        logits = self.architecture.head(self.architecture.extract_feat(inputs))
        losses = self.architecture.head._get_loss(logits, data_samples)
        losses['loss_cls'] = losses.pop('loss')
        if teacher_logits is not None:
            losses['loss_kd'] = self.distill_loss(logits, teacher_logits)
        return (losses, logits) if return_logits else losses

    def train_step(self,
                   data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper,
                   grad_sync: Optional[Callable[[], None]] = None
                   ) -> Dict[str, torch.Tensor]:
        """One optimizer step over ``num_subnets`` subnets on one batch.

        Gradients of all subnets are summed, ``grad_sync`` (a distributed
        wrapper's all-reduce) runs once, then the optimizer steps once and
        the gradients are freed (``set_to_none``, as the official code's
        ``zero_grad`` on torch 2): a weight no subnet of the step used is
        left as it is, and nothing but the checkpointed optimizer state
        carries over between steps, so a resumed run repeats an
        uninterrupted one exactly.
        """
        self.check_subnets_per_step()
        sandwich = self._sampling['strategy'] == 'sandwich'
        iteration = self._iteration()
        self._step_count += 1
        data = self.data_preprocessor(data, True)
        inputs, data_samples = data['inputs'], data['data_samples']
        resolution = self.sample_resolution(iteration)
        if resolution is not None:
            inputs = resize_batch(inputs, resolution)
        inputs = self.to_memory_format(inputs)
        with optim_wrapper.optim_context(self):
            teacher_logits = self.teacher_logits(inputs)

        log_vars = OrderedDict()
        total = 0.0
        for index in range(self.num_subnets):
            self.sample_training_subnet(iteration, index)
            with optim_wrapper.optim_context(self):
                losses, logits = self.subnet_losses(
                    inputs, data_samples, teacher_logits, return_logits=True)
            if sandwich and index == 0:
                # The largest subnet teaches the others (in place).
                teacher_logits = logits.detach()
            del logits
            loss, subnet_vars = self.parse_losses(losses)
            if not self._all_finite(loss):
                return self._nonfinite(iteration, index, loss, optim_wrapper)
            optim_wrapper.backward(loss)
            total = total + loss.detach()
            for key, value in subnet_vars.items():
                log_vars[f'subnet{index}/{key}'] = value.detach()
        if grad_sync is not None:
            grad_sync()
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        log_vars['loss'] = total / self.num_subnets
        if resolution is not None:
            log_vars['resolution'] = torch.tensor(float(resolution))
        return log_vars

    @staticmethod
    def _all_finite(loss: torch.Tensor) -> bool:
        """Whether the loss is finite in every process (all agree)."""
        finite = torch.isfinite(loss.detach()).all().to(torch.int32)
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(finite, op=dist.ReduceOp.MIN)
        return bool(finite.item())

    def _nonfinite(self, iteration: int, index: int, loss: torch.Tensor,
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        subnet = self.current_subnet()
        message = (f'iteration {iteration}: the loss of subnet {index} '
                   f'({subnet}) is not finite in some process '
                   f'({loss.item()} here)')
        if self.nonfinite_loss == 'raise':
            raise FloatingPointError(
                message + "; set model.nonfinite_loss='skip' to skip such "
                'steps')
        print_log(
            message + '; step skipped',
            logger='current',
            level=logging.WARNING)
        optim_wrapper.zero_grad()
        return OrderedDict(skipped_steps=torch.tensor(1.0))

    # ------------------------------------------------------------ subnets
    @property
    def search_space(self):
        """The backbone's search space (candidates per stage and widths)."""
        return self.backbone.search_space

    def set_subnet(self, subnet, source: Optional[str] = None):
        """Activate a subnet given in any accepted form.

        Args:
            subnet: An official arch dict (``ks``, ``e``, ``d``, optional
                resolution), an MMRazor alias mapping, an mmofa mapping, a
                path to a YAML/JSON file of any of these, or a subnet object.
            source (str, optional): Where it came from, for error messages.

        Returns:
            The checked subnet object.
        """
        subnet = self.backbone.parse_subnet(subnet, source)
        self.mutator.set_alias_choices(
            self.backbone.subnet_alias_choices(subnet))
        self.resolution = subnet.resolution
        return subnet

    def current_subnet(self):
        """The active subnet (with the resolution it was set with)."""
        return self.backbone.current_subnet().with_resolution(self.resolution)

    def sample_subnet(self,
                      mode: str = 'random',
                      generator: Union[random.Random, int, None] = None,
                      granularity: str = 'layer'):
        """Draw (``'random'``, ``'max'`` or ``'min'``) and activate a subnet.

        Sampling respects the mutator's constraints and couplings;
        ``generator`` is a ``random.Random`` or an int seed; see
        :meth:`OFAMutator.sample_choices` for ``granularity``.
        """
        self.mutator.set_choices(
            self.mutator.sample_choices(
                mode, generator, granularity=granularity))
        self.resolution = None
        return self.current_subnet()

    def dump_subnet(self, subnet=None, fmt: str = 'mmofa') -> Dict:
        """A subnet (default: the active one) as a mapping in ``fmt``."""
        subnet = (
            self.current_subnet()
            if subnet is None else self.backbone.parse_subnet(subnet))
        return self.backbone.dump_subnet(subnet, fmt)

    def estimate_resources(self,
                           subnet=None,
                           resolution: Optional[int] = None,
                           source: str = 'resolution') -> Dict[str, int]:
        """Analytic ``macs`` (per image) and ``params`` of a subnet.

        Args:
            subnet: Any accepted subnet form; defaults to the active one.
            resolution (int, optional): Input size; defaults to the
                subnet's resolution, else 224. Checked as training and
                testing check it (at least the total stride).
            source (str): Where ``resolution`` came from, for the message.
        """
        subnet = (
            self.current_subnet()
            if subnet is None else self.backbone.parse_subnet(subnet))
        if resolution is not None:
            check_resolution(resolution, source,
                             self.search_space.min_resolution)
        return self.resource_estimator(subnet, resolution)

    @property
    def resource_estimator(self):
        """The analytic MACs / params estimator of this supernet."""
        if self._resource_estimator is None:
            fc = self.architecture.head.fc
            self._resource_estimator = self.backbone.resource_estimator(
                fc.out_features, fc.bias is not None)
        return self._resource_estimator

    # ------------------------------------------------------------- export
    def export_subnet_config(self) -> dict:
        """Config of the static classifier of the active subnet."""
        if self._architecture_cfg is None:
            raise RuntimeError('export needs the architecture given as a '
                               'config dict, not a built module')
        cfg = copy.deepcopy(self._architecture_cfg)
        cfg['backbone'] = self.backbone.export_config()
        # Parts after the backbone take its active width, as in
        # export_subnet (the elastic classifier of the OFA ResNets).
        for name, module in self.architecture.named_children():
            if name != 'backbone' and name in cfg and hasattr(
                    module, 'export_config'):
                cfg[name] = module.export_config(
                    cfg[name], self.backbone.active_out_channels)
        return cfg

    def export_subnet(self, subnet=None) -> nn.Module:
        """The active subnet (or ``subnet``) as a static classifier.

        Plain torch modules with sliced and transformed copies of the
        weights: no mutables, no transform matrices. It is in the same
        train/eval mode as this model and on the same device.
        """
        if subnet is not None:
            self.set_subnet(subnet)
        # Built without memory or random init; the exported copies of the
        # weights become its tensors.
        with torch.device('meta'):
            static = MODELS.build(self.export_subnet_config())
        state = {
            f'backbone.{k}': v
            for k, v in self.backbone.export_state_dict().items()
        }
        for name, module in self.architecture.named_children():
            if name in ('backbone', 'data_preprocessor'):
                continue
            if hasattr(module, 'export_state_dict'):
                part = module.export_state_dict(
                    self.backbone.active_out_channels)
            else:
                part = {
                    key: value.detach().clone()
                    for key, value in module.state_dict().items()
                }
            state.update({f'{name}.{k}': v for k, v in part.items()})
        static.load_state_dict(state, strict=True, assign=True)
        # Buffers outside the state dict (the data preprocessor's mean and
        # std) are those of this model.
        for name, buffer in list(static.named_buffers()):
            if buffer.is_meta:
                module_name, _, buffer_name = name.rpartition('.')
                static.get_submodule(module_name).register_buffer(
                    buffer_name,
                    self.architecture.get_buffer(name).clone(),
                    persistent=False)
        return static.train(self.training)

    def reorganize_channels(self, expand_ratio_stage: int = 0) -> None:
        """Sort middle channels by importance (official phases 0 and 1)."""
        self.backbone.reorganize_channels(expand_ratio_stage)


def build_teacher(checkpoint: Optional[str],
                  model: Union[dict, str, None],
                  subnet='max') -> nn.Module:
    """A teacher from a checkpoint (loaded strictly).

    Args:
        checkpoint (str): Its weights; None keeps the initialisation.
        model (dict | str): Its config, or the path of a config file whose
            ``model`` it is (e.g. ``'configs/_base_/models/ofa_mbv3_w10.py'``).
        subnet: For a supernet teacher, the subnet to use (``'max'`` by
            default, or any accepted subnet form).
    """
    from mmofa.utils.checkpoint import load_model_weights
    if model is None:
        raise ValueError('distillation.teacher needs model: the teacher '
                         "config (e.g. dict(type='mmofa.OFA', architecture="
                         '...)) or a config file path')
    if isinstance(model, str):
        from mmengine.config import Config
        model = Config.fromfile(model).model
    teacher = MODELS.build(copy.deepcopy(model))
    if checkpoint is not None:
        load_model_weights(teacher, checkpoint)
    if isinstance(teacher, OFA):
        if subnet == 'max':
            teacher.sample_subnet('max')
        elif subnet is not None:
            teacher.set_subnet(subnet)
    return teacher


def draw_resolution(resolutions: Optional[tuple], seed: int,
                    iteration: int) -> Optional[int]:
    """The training size of ``iteration``, the same on every rank (None
    without ``resolutions``)."""
    if resolutions is None:
        return None
    return random.Random(f'{seed}-resolution-{iteration}').choice(resolutions)


def current_iteration(fallback: int) -> int:
    """The runner's iteration (MMEngine's message hub), else ``fallback``
    (a model's own step count outside a runner)."""
    iteration = MessageHub.get_current_instance().get_info('iter')
    return fallback if iteration is None else iteration


def _refuse_teacher_with_sandwich(strategy: Optional[str],
                                  has_teacher: bool) -> None:
    if strategy == 'sandwich' and has_teacher:
        raise ValueError('sampling strategy sandwich distils from the '
                         'largest subnet of each step; it takes no separate '
                         'teacher (remove distillation.teacher)')


def split_distillation(distillation: Optional[dict],
                       teacher_train_mode: bool) -> tuple:
    """``(teacher, loss config, teacher_train_mode)`` of a distillation
    config; ``teacher_train_mode`` is the default of that key."""
    distillation = dict(distillation or {})
    check_keys(distillation, ('teacher', 'loss', 'teacher_train_mode'),
               'distillation')
    return (distillation.get('teacher'),
            distillation.get('loss', dict(type='mmofa.KDLoss')),
            distillation.get('teacher_train_mode', teacher_train_mode))


@torch.no_grad()
def run_teacher(teacher: nn.Module, inputs: torch.Tensor,
                train_mode: bool) -> torch.Tensor:
    """Logits of a frozen teacher, moved to the inputs' device first; in
    train mode it uses batch statistics but no dropout (as Once-for-All's
    distillation does)."""
    if next(teacher.parameters()).device != inputs.device:
        teacher.to(inputs.device)
    teacher.train(train_mode)
    for module in teacher.modules():
        if isinstance(module, nn.Dropout):
            module.eval()
    return teacher(inputs, mode='tensor').detach()
