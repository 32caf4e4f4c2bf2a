"""MMEngine's Runner with mmofa's checks on what it loads and where it
writes."""
import os.path as osp
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint, find_latest_checkpoint

from mmofa.registry import RUNNERS
from mmofa.utils.checkpoint import (CheckpointError, load_checkpoint_file,
                                    load_state_dict_checked, state_dict_of)
from ..dataset_checks import check_dataset_classes
from ..work_dir_lock import hold_work_dir

#: The ``meta`` entry of a checkpoint naming what its run started from.
ORIGIN_KEY = 'run_load_from'


def _same_file(a: Optional[str], b: Optional[str]) -> bool:
    if a is None or b is None:
        return a is b
    return osp.abspath(a) == osp.abspath(b)


@RUNNERS.register_module()
class CheckedRunner(Runner):
    """A Runner that loads only checkpoints that fit and resumes safely.

    mmofa's tools build it (``runner_type`` in a config picks another).
    Unlike MMEngine's Runner:

    - every checkpoint (``load_from``, resume, ``tools/test.py``) must fit
      the model completely: a missing, unexpected or mis-shaped key is a
      :class:`CheckpointError` naming keys and shapes, before anything is
      loaded. ``load_from_exclude`` (a config key: ``fnmatch`` patterns)
      names the weights a training keeps instead of loading them, e.g. a
      new head (tests, searches and resumes load every weight);
    - unreadable files are named in mmofa's words (not a checkpoint,
      truncated, refused global);
    - ``resume=True`` resumes the latest checkpoint of the work dir and,
      when there is none, starts from ``load_from`` (MMEngine would resume
      ``load_from`` itself: the previous stage's optimizer and epoch);
      ``resume='PATH'`` resumes that file. A checkpoint records what its
      run started from (``meta.run_load_from``); resuming it under another
      ``load_from`` is refused with both paths named;
    - training holds a lock on the work dir (:func:`hold_work_dir`): a
      second run into the same folder is refused.

    It takes MMEngine's Runner arguments; ``load_from_exclude`` is read
    from the config.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.load_from_exclude: Sequence[str] = list(
            self.cfg.get('load_from_exclude') or ())
        self.origin = self._load_from
        self.resumed_from: Optional[str] = None
        self._resuming = False
        self._training = False
        #: ``meta.dataset_meta`` of the checkpoint loaded (class names).
        self.checkpoint_dataset_meta: Optional[dict] = None

    # ---------------------------------------------------------- loading
    def load_or_resume(self) -> None:
        """Load or resume as configured, then check the datasets' classes
        against the model's head, each other and the checkpoint's
        (:func:`check_dataset_classes`)."""
        if self._has_loaded:
            return
        self._load_or_resume()
        check_dataset_classes(self, (self.checkpoint_dataset_meta
                                     or {}).get('classes'))

    def _load_or_resume(self) -> None:
        if not self._resume:
            if self._load_from is not None:
                self.load_checkpoint(self._load_from)
                self._has_loaded = True
            return
        if isinstance(self._resume, (str, Path)):
            resume_from = str(self._resume)
        else:
            resume_from = find_latest_checkpoint(self.work_dir)
        if resume_from is None:
            if self._load_from is not None:
                self.logger.info(
                    f'resume: no checkpoint in {self.work_dir} yet; starting '
                    f'from load_from {self._load_from}')
                self.load_checkpoint(self._load_from)
            else:
                self.logger.warning(
                    f'resume: no checkpoint in {self.work_dir} and no '
                    'load_from: training starts from scratch')
            self._has_loaded = True
            return
        self.logger.info(f'resuming from {resume_from}')
        self._resuming = True
        try:
            self.resume(resume_from)
        finally:
            self._resuming = False
        self.resumed_from = resume_from
        self._has_loaded = True

    def _read_checkpoint(self, filename: str, map_location) -> dict:
        if '://' in str(filename):  # URLs and MMEngine's prefixes
            return _load_checkpoint(filename, map_location=map_location)
        return load_checkpoint_file(filename, map_location=map_location)

    def _check_origin(self, filename: str, checkpoint: dict) -> None:
        """Refuse to resume a run that started from another file than this
        config's ``load_from``."""
        meta = checkpoint.get('meta') or {}
        if 'epoch' not in meta or 'iter' not in meta:
            raise CheckpointError(
                f'resume: {filename} is not a training checkpoint (no '
                'meta.epoch / meta.iter: converted, exported or published '
                'weights?); to start a run from its weights, give it as '
                'load_from instead of --resume')
        if ORIGIN_KEY not in meta:
            if self._load_from is not None:
                self.logger.warning(
                    f'{filename} does not record what its run started from;'
                    f' the config\'s load_from {self._load_from} is not used')
            self.origin = self._load_from
            return
        recorded = meta[ORIGIN_KEY]
        if not _same_file(recorded, self._load_from):
            raise CheckpointError(
                f'resume: {filename} belongs to a run that started from '
                f'{recorded or "scratch"}, but this config\'s load_from is '
                f'{self._load_from}. Resuming would silently drop one of '
                'them: to continue that run, give --cfg-options load_from='
                f'{recorded}; to start from {self._load_from}, train '
                'without --resume (or into another --work-dir).')
        self.origin = recorded

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = True,
                        revise_keys: list = [(r'^module.', '')]):
        """Load ``filename`` into the model if it fits completely.

        ``strict`` and ``revise_keys`` are accepted for MMEngine's callers;
        the check is always complete (``load_from_exclude`` aside) and the
        ``module.`` prefix of wrapped models is always removed.
        """
        checkpoint = self._read_checkpoint(filename, map_location)
        if not isinstance(checkpoint, dict):
            raise CheckpointError(f'{filename} holds a '
                                  f'{type(checkpoint).__name__}, not a '
                                  'checkpoint')
        if self._resuming:
            self._check_origin(filename, checkpoint)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        # The exclusions are for starting a training (a new head); a test,
        # a search or a resume loads everything.
        exclude = self.load_from_exclude if self._training and \
            not self._resuming else ()
        load_state_dict_checked(model, state_dict_of(checkpoint, filename),
                                filename, exclude)
        if exclude:
            self.logger.info(f'{filename}: weights matching {exclude} keep '
                             "the model's initialisation")
        meta = checkpoint.get('meta') or {}
        if isinstance(meta.get('dataset_meta'), dict):
            self.checkpoint_dataset_meta = meta['dataset_meta']
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        *args,
                        meta: Optional[dict] = None,
                        **kwargs) -> None:
        meta = dict(meta or {})
        meta.setdefault(ORIGIN_KEY, self.origin)
        super().save_checkpoint(out_dir, filename, *args, meta=meta, **kwargs)

    def train(self) -> nn.Module:
        self._training = True
        with hold_work_dir(self.work_dir, 'training'):
            return super().train()
