"""The Once-for-All algorithm: a supernet architecture and its mutator."""
import copy
import random
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from mmofa.registry import MODELS


@MODELS.register_module()
class OFA(BaseModel):
    """A Once-for-All supernet classifier with its subnet controls.

    Args:
        architecture (dict | nn.Module): The supernet classifier, e.g. an
            ``mmpretrain.ImageClassifier`` with an ``OFAMobileNetV3``
            backbone. Give a config to be able to export subnets.
        mutator (dict): The mutator. Defaults to ``dict(type='OFAMutator')``.
        data_preprocessor (dict, optional): Defaults to the architecture's.
        init_cfg (dict, optional): Initialisation config.

    ``model(images, mode='tensor')`` returns the logits of the active subnet.
    """

    def __init__(self,
                 architecture: Union[dict, nn.Module],
                 mutator: Union[dict, nn.Module] = dict(type='OFAMutator'),
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
        for method in ('parse_subnet', 'current_subnet', 'dump_subnet',
                       'subnet_alias_choices', 'export_config',
                       'export_state_dict'):
            if not hasattr(self.backbone, method):
                raise TypeError(
                    f'{type(self.backbone).__name__} is not an elastic '
                    f'backbone (no {method}); use e.g. OFAMobileNetV3')
        if isinstance(mutator, dict):
            mutator = MODELS.build(mutator)
        self.mutator = mutator
        self.mutator.prepare_from_supernet(self.architecture)
        self.resolution: Optional[int] = None
        self._resource_estimator = None

    @property
    def backbone(self) -> nn.Module:
        return self.architecture.backbone

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor'):
        """Run the active subnet; modes as in ``ImageClassifier``."""
        return self.architecture(inputs, data_samples, mode)

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
                      generator: Union[random.Random, int, None] = None):
        """Draw (``'random'``, ``'max'`` or ``'min'``) and activate a subnet.

        Sampling respects the mutator's constraints; ``generator`` is a
        ``random.Random`` or an int seed.
        """
        self.mutator.set_choices(self.mutator.sample_choices(mode, generator))
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
                           resolution: Optional[int] = None) -> Dict[str, int]:
        """Analytic ``macs`` (per image) and ``params`` of a subnet.

        Args:
            subnet: Any accepted subnet form; defaults to the active one.
            resolution (int, optional): Input size; defaults to the
                subnet's resolution, else 224.
        """
        if self._resource_estimator is None:
            fc = self.architecture.head.fc
            self._resource_estimator = self.backbone.resource_estimator(
                fc.out_features, fc.bias is not None)
        subnet = (
            self.current_subnet()
            if subnet is None else self.backbone.parse_subnet(subnet))
        return self._resource_estimator(subnet, resolution)

    # ------------------------------------------------------------- export
    def export_subnet_config(self) -> dict:
        """Config of the static classifier of the active subnet."""
        if self._architecture_cfg is None:
            raise RuntimeError('export needs the architecture given as a '
                               'config dict, not a built module')
        cfg = copy.deepcopy(self._architecture_cfg)
        cfg['backbone'] = self.backbone.export_config()
        return cfg

    def export_subnet(self, subnet=None) -> nn.Module:
        """The active subnet (or ``subnet``) as a static classifier.

        Plain torch modules with sliced and transformed copies of the
        weights: no mutables, no transform matrices. It is in the same
        train/eval mode as this model and on the same device.
        """
        if subnet is not None:
            self.set_subnet(subnet)
        static = MODELS.build(self.export_subnet_config())
        state = {
            f'backbone.{k}': v
            for k, v in self.backbone.export_state_dict().items()
        }
        for name, module in self.architecture.named_children():
            if name not in ('backbone', 'data_preprocessor'):
                for key, value in module.state_dict().items():
                    state[f'{name}.{key}'] = value.detach().clone()
        static.load_state_dict(state, strict=True)
        device = next(self.architecture.parameters()).device
        return static.to(device).train(self.training)

    def reorganize_channels(self, expand_ratio_stage: int = 0) -> None:
        """Sort middle channels by importance (official phases 0 and 1)."""
        self.backbone.reorganize_channels(expand_ratio_stage)
