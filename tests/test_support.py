"""Hooks that only the tests use, imported by test configs."""
import os
import signal

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmofa.registry import HOOKS


@HOOKS.register_module()
class DumpWeightsHook(Hook):
    """After training, every rank writes its state dict (rank<r>.pth)."""

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        torch.save(model.state_dict(),
                   os.path.join(runner.work_dir, f'rank{get_rank()}.pth'))


@HOOKS.register_module()
class KillAtIterHook(Hook):
    """SIGKILL this process before iteration ``MMOFA_KILL_AT_ITER`` (if set):
    a crash mid-run that no handler can catch."""

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        kill_at = os.environ.get('MMOFA_KILL_AT_ITER')
        if kill_at is not None and runner.iter == int(kill_at):
            os.kill(os.getpid(), signal.SIGKILL)
