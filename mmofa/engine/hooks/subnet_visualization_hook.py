"""Predictions drawn on test images, one folder per evaluated subnet."""
from pathlib import Path

from mmengine.logging import MessageHub
from mmpretrain.engine.hooks import VisualizationHook

from mmofa.registry import HOOKS

#: The message-hub entry the subnet loops set to the subnet they evaluate.
SUBNET_NAME_KEY = 'evaluated_subnet'


@HOOKS.register_module()
class SubnetVisualizationHook(VisualizationHook):
    """mmpretrain's ``VisualizationHook`` for the subnet loops: the images
    of each evaluated subnet go to ``out_dir/<subnet name>/`` (the loops
    evaluate several subnets over the same images). ``tools/test.py
    --show-dir`` adds it. Arguments as mmpretrain's hook."""

    def _draw_samples(self, batch_idx, data_batch, data_samples, step=0):
        name = MessageHub.get_current_instance().get_info(SUBNET_NAME_KEY)
        base = self.out_dir
        if base is not None and name:
            self.out_dir = str(Path(base) / name)
        try:
            super()._draw_samples(batch_idx, data_batch, data_samples, step)
        finally:
            self.out_dir = base
