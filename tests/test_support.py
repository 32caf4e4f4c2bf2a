"""Hooks that only the tests use, imported by test configs."""
import os
import signal

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmofa.registry import HOOKS
from mmofa.utils import checkpoint as checkpoint_io


@HOOKS.register_module()
class DumpWeightsHook(Hook):
    """After training, every rank writes its state dict (rank<r>.pth)."""

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        torch.save(model.state_dict(),
                   os.path.join(runner.work_dir, f'rank{get_rank()}.pth'))


def _kill_here(where: str) -> bool:
    """Whether ``MMOFA_KILL_AT`` (``iter:N``, ``val:N`` or ``save:NAME``)
    names this point, on ``MMOFA_KILL_RANK`` (any rank if unset)."""
    rank = os.environ.get('MMOFA_KILL_RANK')
    if rank is not None and int(rank) != get_rank():
        return False
    return os.environ.get('MMOFA_KILL_AT') == where


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class KillHook(Hook):
    """SIGKILL this process at ``MMOFA_KILL_AT``: before training iteration
    N (``iter:N``) or validation batch N (``val:N``). A crash no handler
    can catch."""

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if _kill_here(f'iter:{runner.iter}'):
            _kill()

    def before_val_iter(self, runner, batch_idx, data_batch=None) -> None:
        if _kill_here(f'val:{batch_idx}'):
            _kill()


_put = checkpoint_io.AtomicLocalBackend.put


def _put_or_die_halfway(self, obj: bytes, filepath) -> None:
    """``save:NAME``: die after writing half of the file named NAME."""
    if _kill_here(f'save:{os.path.basename(str(filepath))}'):

        def half_then_kill(file):
            file.write(obj[:len(obj) // 2])
            file.flush()
            _kill()

        checkpoint_io.atomic_write(filepath, half_then_kill)
    _put(self, obj, filepath)


checkpoint_io.AtomicLocalBackend.put = _put_or_die_halfway
