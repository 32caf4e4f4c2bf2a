"""The contract of an elastic backbone, and what the families share.

``mmofa.OFA`` takes any backbone that is an :class:`ElasticBackbone`;
everything built on a supernet (subnet files, export, channel sorting,
FLOPs, search, the accuracy predictor, latency tables) goes through these
methods only. A new supernet family is one backbone file (a subclass
implementing them), one subnet file (its search space, subnet dataclass and
formats, :mod:`mmofa.structures`) with its population codec, and one
resource estimator; see docs/add_a_family.md.
"""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmofa.models.bricks import ConvBNAct, prefixed
from mmofa.models.dynamic_ops import ElasticBatchNorm2d, ElasticConv2d
from mmofa.models.utils import build_activation
from mmofa.structures.subnet_base import SubnetFormats

#: One measurable part of a network for latency tables: ``(key, build,
#: input shape)``; parts with equal keys are measured once.
LatencyPart = Tuple[tuple, callable, Tuple[int, ...]]


class ElasticBackbone(BaseModule, metaclass=ABCMeta):
    """What every elastic (supernet) backbone provides.

    A subclass passes ``norm_cfg`` and ``init_cfg`` on (its ``**kwargs``
    to ``super().__init__``), builds the supernet at its largest size with
    :attr:`norm_cfg`, owns its mutables
    (each elastic choice a ``OneShotMutableValue`` with an alias, read in
    ``forward``) and sets ``self.search_space`` (a frozen dataclass with at
    least ``min_resolution``, the total stride). A class missing any method
    below cannot be instantiated (``TypeError`` naming them).

    Args:
        norm_cfg (dict, optional): Keyword arguments of every batch norm,
            over Once-for-All's ``dict(momentum=0.1, eps=1e-5)``.
        init_cfg (dict, optional): Initialisation config; by default
            Once-for-All's ``he_fout`` (the family's ``OFAInitMixin``).

    Attributes:
        subnets (SubnetFormats): The family's subnet files (the formats
            :meth:`dump_subnet` writes, the first mmofa's own, and
            ``parse_<family>_subnet``), declared once in its subnet
            module.
        codec_class (type): The family's population codec, built as
            ``codec_class(search_space, resolutions, couplings)``.
        estimator_class (type): The family's resource estimator, built as
            ``estimator_class(search_space, num_classes, classifier_bias)``
            (a family whose estimator takes more overrides
            :meth:`resource_estimator`).
    """
    subnets: Optional[SubnetFormats] = None
    codec_class: Optional[type] = None
    estimator_class: Optional[type] = None
    #: The index of the first elastic stage's ``layer{i}`` module (a fixed
    #: layer may come first: MobileNetV3's ``layer1``).
    first_stage_layer = 1
    #: Once-for-All's batch norm settings, under those a config gives.
    default_norm_cfg = dict(momentum=0.1, eps=1e-5)

    def __init__(self,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        #: Keyword arguments of every batch norm (also of the export).
        self.norm_cfg = dict(self.default_norm_cfg, **(norm_cfg or {}))

    # ------------------------------------------------------------ subnets
    def parse_subnet(self, subnet, source: Optional[str] = None):
        """A checked subnet (the family's frozen dataclass) from any form
        the family accepts: a dataclass, a mapping in one of its formats, a
        subnet file; errors are ``SubnetError`` naming key, value, allowed
        values and ``source`` (the family's ``subnets.parse``)."""
        return self.subnets.parse(subnet, self.search_space, source)

    def dump_subnet(self, subnet, fmt: str = 'mmofa'):
        """``subnet`` in format ``fmt`` (one of :attr:`subnet_formats`; the
        family's ``subnets.dump``)."""
        return self.subnets.dump(subnet, self.search_space, fmt)

    @property
    def subnet_formats(self) -> Tuple[str, ...]:
        """The formats :meth:`dump_subnet` writes, mmofa's first."""
        return self.subnets.names

    @property
    def stages(self) -> Tuple[nn.ModuleList, ...]:
        """The elastic stages, ``layer{first_stage_layer + s}``."""
        return tuple(
            getattr(self, f'layer{self.first_stage_layer + s}')
            for s in range(self.num_stages))

    @abstractmethod
    def current_subnet(self):
        """The active subnet, read from the mutables."""

    @abstractmethod
    def subnet_alias_choices(self, subnet) -> Dict[str, object]:
        """Alias -> value of every mutable the (checked) subnet sets."""

    # ------------------------------------------------------------- export
    @abstractmethod
    def export_config(self) -> dict:
        """Config of the static backbone of the active subnet."""

    @abstractmethod
    def export_state_dict(self) -> Dict[str, torch.Tensor]:
        """Sliced weights of the active subnet: the keys and shapes of the
        static backbone :meth:`export_config` builds (copies)."""

    @property
    @abstractmethod
    def active_out_channels(self) -> int:
        """Width of the features of the active subnet (the head's input)."""

    # ----------------------------------------------------------- training
    @abstractmethod
    def reorganize_channels(self, expand_ratio_stage: int = 0) -> None:
        """Sort elastic channels by importance so that every subnet keeps
        the most important ones; the largest network is unchanged."""

    # ------------------------------------------------- costs and search
    def resource_estimator(self,
                           num_classes: int,
                           classifier_bias: bool = True):
        """Analytic MACs / params: ``estimator(subnet, resolution) ->
        {'macs', 'params'}``, equal to a hook count of the exported model,
        with the per-part costs its population codec's slots read."""
        return self.estimator_class(self.search_space, num_classes,
                                    classifier_bias)

    def population_codec(self,
                         resolutions: Sequence[int],
                         couplings: Sequence[dict] = ()):
        """The family's :class:`~mmofa.structures.PopulationCodec` for
        ``resolutions`` (and the mutator's ``couplings``)."""
        return self.codec_class(self.search_space, resolutions, couplings)

    @abstractmethod
    def latency_parts(
        self, codec, resolution: int, batch_size: int, num_classes: int
    ) -> Tuple[List[LatencyPart], List[List[Optional[LatencyPart]]]]:
        """What a latency table measures at ``resolution``: the parts no
        choice changes, and for each cost slot of ``codec`` the part of
        each combination (None for one that never occurs), each a static
        module with the input shape it sees in the network."""


def check_elastic_backbone(backbone: nn.Module) -> None:
    """Refuse a backbone that is not an :class:`ElasticBackbone`."""
    if not isinstance(backbone, ElasticBackbone):
        raise TypeError(
            f'{type(backbone).__name__} is not an elastic backbone (an '
            'mmofa ElasticBackbone: OFAMobileNetV3, OFAResNet, OFAResNet48 '
            'or a family of your own, docs/add_a_family.md)')
    name = type(backbone).__name__
    if not hasattr(backbone, 'search_space') or not hasattr(
            backbone.search_space, 'min_resolution'):
        raise TypeError(f'{name} sets no search_space with a '
                        'min_resolution')
    if not isinstance(backbone.subnets, SubnetFormats):
        raise TypeError(f'{name} declares no subnets (a SubnetFormats of its '
                        'formats and parse and dump functions)')
    if backbone.codec_class is None:
        raise TypeError(f'{name} names no codec_class (its population codec)')
    if backbone.estimator_class is None and type(
            backbone).resource_estimator is ElasticBackbone.resource_estimator:
        raise TypeError(f'{name} names no estimator_class and does not '
                        'override resource_estimator')


# --------------------------------------------- what the families share
def per_stage_candidates(name: str, value: Sequence, num_stages: int) -> tuple:
    """One candidate list for all stages, or one list per stage; each
    sorted."""
    value = list(value)
    if value and all(isinstance(v, (list, tuple)) for v in value):
        if len(value) != num_stages:
            raise ValueError(f'{name} per stage needs {num_stages} lists, '
                             f'got {len(value)}: {value}')
        return tuple(tuple(sorted(v)) for v in value)
    return tuple(tuple(sorted(value)) for _ in range(num_stages))


def elastic_conv_bn(in_channels: int,
                    out_channels: int,
                    kernel_size: int,
                    stride: int = 1,
                    act: Optional[str] = None,
                    norm_cfg: Optional[dict] = None) -> ConvBNAct:
    """An elastic conv, an elastic batch norm and an activation, at full
    width (``conv``, ``bn``, ``act`` as in the static bricks)."""
    return ConvBNAct(
        ElasticConv2d(in_channels, out_channels, kernel_size, stride),
        ElasticBatchNorm2d(out_channels, **(norm_cfg or {})),
        build_activation(act))


def head_part(channels: int, size: int, batch_size: int,
              num_classes: int) -> LatencyPart:
    """The latency part of a pooled linear classifier over ``channels``
    feature maps of side ``size``."""
    return (('head', channels, size, num_classes), lambda: nn.Sequential(
        nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(
            channels, num_classes)), (batch_size, channels, size, size))


def stage_blocks_state(stages: Sequence[nn.ModuleList],
                       active_blocks: Sequence[int],
                       in_channels: int) -> Dict[str, torch.Tensor]:
    """The sliced weights of the active blocks of every stage, keyed
    ``layer{s + 1}.{b}.`` as the static ResNets (each block's
    ``active_state_dict(in_channels)``; a block's output width is the next
    one's input)."""
    state = {}
    for s, stage in enumerate(stages):
        for b in range(active_blocks[s]):
            state.update(
                prefixed(f'layer{s + 1}.{b}.',
                         stage[b].active_state_dict(in_channels)))
            in_channels = stage[b].out_channels.current_choice
    return state
