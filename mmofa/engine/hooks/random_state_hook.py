import random

import numpy as np
import torch
from mmengine.hooks import Hook

from mmofa.registry import HOOKS


def get_random_state() -> dict:
    """States of Python's, numpy's and torch's (CPU and CUDA) generators."""
    state = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict) -> None:
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the random generators' state in checkpoints, restore on resume.

    With it, a resumed run draws the same augmentations, dropout masks and
    worker seeds as an uninterrupted one (see ``mmofa.seed_worker``).
    """
    priority = 'VERY_LOW'

    def __init__(self):
        self._loaded = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['random_state'] = \
            get_random_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = checkpoint.get('meta', {}).get('random_state')

    def before_train(self, runner) -> None:
        # Only a resumed run continues the saved stream.
        if runner.iter > 0 and self._loaded is not None:
            set_random_state(self._loaded)
        self._loaded = None
