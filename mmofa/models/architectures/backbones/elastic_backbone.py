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

from mmofa.models.bricks import ConvBNAct
from mmofa.models.dynamic_ops import ElasticBatchNorm2d, ElasticConv2d
from mmofa.models.utils import build_activation

#: One measurable part of a network for latency tables: ``(key, build,
#: input shape)``; parts with equal keys are measured once.
LatencyPart = Tuple[tuple, callable, Tuple[int, ...]]


class ElasticBackbone(BaseModule, metaclass=ABCMeta):
    """What every elastic (supernet) backbone provides.

    A subclass builds the supernet at its largest size, owns its mutables
    (each elastic choice a ``OneShotMutableValue`` with an alias, read in
    ``forward``) and sets ``self.search_space`` (a frozen dataclass with at
    least ``min_resolution``, the total stride). A class missing any method
    below cannot be instantiated (``TypeError`` naming them).

    Attributes:
        subnet_formats (tuple[str]): The formats :meth:`dump_subnet` writes
            (the first is mmofa's own, read and written by every tool).
    """
    subnet_formats: Tuple[str, ...] = ('mmofa', )

    # ------------------------------------------------------------ subnets
    @abstractmethod
    def parse_subnet(self, subnet, source: Optional[str] = None):
        """A checked subnet (the family's frozen dataclass) from any form
        the family accepts: a dataclass, a mapping in one of its formats, a
        subnet file; errors are ``SubnetError`` naming key, value, allowed
        values and ``source``."""

    @abstractmethod
    def dump_subnet(self, subnet, fmt: str = 'mmofa'):
        """``subnet`` in format ``fmt`` (one of :attr:`subnet_formats`)."""

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
    @abstractmethod
    def resource_estimator(self,
                           num_classes: int,
                           classifier_bias: bool = True):
        """Analytic MACs / params: ``estimator(subnet, resolution) ->
        {'macs', 'params'}``, equal to a hook count of the exported model,
        with the per-part costs its population codec's slots read."""

    @abstractmethod
    def population_codec(self,
                         resolutions: Sequence[int],
                         couplings: Sequence[dict] = ()):
        """The family's :class:`~mmofa.structures.PopulationCodec` for
        ``resolutions`` (and the mutator's ``couplings``)."""

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
    if not hasattr(backbone, 'search_space') or not hasattr(
            backbone.search_space, 'min_resolution'):
        raise TypeError(f'{type(backbone).__name__} sets no search_space '
                        'with a min_resolution')


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
