"""Progressive shrinking: which subnets each stage of training may sample."""
import copy
from collections import defaultdict
from pathlib import Path
from typing import List, Optional, Sequence

from mmengine.dist import barrier, get_rank
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmofa.models.mutators.ofa_mutator import check_granularity
from mmofa.registry import HOOKS
from mmofa.utils.arguments import check_keys
from mmofa.utils.checkpoint import save_checkpoint_file
from .random_state_hook import get_random_state, set_random_state

STAGE_KEYS = {
    'name', 'begin', 'constraints', 'num_subnets', 'sampling', 'reorganize',
    'reset_optimizer'
}


@HOOKS.register_module()
class ProgressiveShrinkingHook(Hook):
    """Set the progressive-shrinking stage of an ``OFA`` model.

    At the start of each stage it sets the mutator's per-dimension
    constraints and the subnets per step; once per stage (never again on
    resume) it can sort middle channels (``reorganize``, at the start of
    the expand phases) and clear the optimizer state (each official stage
    starts with a fresh optimizer). The stage and what has been done are
    saved in checkpoints and restored by ``--resume``.

    Args:
        stages (list[dict]): In order, each with ``name``; ``begin``, the
            first epoch (or iteration with ``by_epoch=False``) of the stage
            in this run, 0 for the first; ``constraints``, dimension ->
            allowed values (left out: unconstrained); ``num_subnets``
            (default 1); ``sampling``, the model's subnet ``sampling``
            (default: uniform, per layer); ``reorganize``, the
            ``expand_ratio_stage`` of channel sorting (default None: none);
            ``reset_optimizer`` (default True).
        by_epoch (bool): Stage boundaries in epochs. Defaults to True.
        teacher_stage (str, optional): A stage whose final largest subnet
            becomes the distillation teacher of the stages after it, saved
            as ``<work_dir>/teacher_<stage>.pth`` (for one-job schedules).
    """
    priority = 'ABOVE_NORMAL'
    #: Needs a supernet; a static subnet's config has no such hook.
    supernet_only = True

    def __init__(self,
                 stages: Sequence[dict],
                 by_epoch: bool = True,
                 teacher_stage: Optional[str] = None):
        if not stages:
            raise ValueError('stages must not be empty')
        checked, begins = [], []
        for index, stage in enumerate(stages):
            check_keys(stage, STAGE_KEYS,
                       f'stage {index} ({stage.get("name")!r})', ('name', ))
            stage = dict(
                dict(
                    begin=0,
                    constraints={},
                    num_subnets=1,
                    sampling=None,
                    reorganize=None,
                    reset_optimizer=True), **stage)
            begins.append(stage['begin'])
            checked.append(stage)
        if begins[0] != 0 or begins != sorted(set(begins)):
            raise ValueError('stage begins must start at 0 and increase, '
                             f'got {begins}')
        names = [s['name'] for s in checked]
        if len(set(names)) != len(names):
            raise ValueError(f'stage names must be unique, got {names}')
        if teacher_stage is not None and teacher_stage not in names[:-1]:
            raise ValueError(f'teacher_stage {teacher_stage!r} must be a '
                             f'stage before the last, one of {names[:-1]}')
        self.stages: List[dict] = checked
        self.by_epoch = by_epoch
        self.teacher_stage = teacher_stage
        self.current: Optional[str] = None
        self.started: List[str] = []
        self._loaded: Optional[dict] = None
        self._recorded_teacher: Optional[Path] = None

    # ----------------------------------------------------------- helpers
    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def stage_at(self, step: int) -> dict:
        """The stage that covers epoch (or iteration) ``step``."""
        return [s for s in self.stages if s['begin'] <= step][-1]

    def teacher_path(self, runner) -> Path:
        """Where this run writes the teacher: in its work dir."""
        return Path(runner.work_dir) / f'teacher_{self.teacher_stage}.pth'

    def _teacher_candidates(self, runner) -> List[Path]:
        """Where the teacher may be: this run's work dir, the path the
        resumed checkpoint recorded (a run resumed into a new work dir),
        and the folder of the resumed checkpoint (a moved run)."""
        name = self.teacher_path(runner).name
        candidates = [self.teacher_path(runner)]
        if self._recorded_teacher is not None:
            candidates.append(self._recorded_teacher)
        resumed = getattr(runner, 'resumed_from', None)
        if resumed:
            candidates.append(Path(resumed).resolve().parent / name)
        return candidates

    def _teacher_file(self, runner) -> Path:
        """The teacher file that exists (absolute), or this run's path."""
        for path in self._teacher_candidates(runner):
            if path.is_file():
                return path.resolve()
        return self.teacher_path(runner).resolve()

    # ------------------------------------------------------------- hooks
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = copy.deepcopy(
            checkpoint.get('meta', {}).get('progressive_shrinking'))
        if self._loaded and self._loaded.get('teacher'):
            self._recorded_teacher = Path(self._loaded['teacher'])

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(current=self.current, started=list(self.started))
        if self.teacher_stage is not None:
            state['teacher'] = str(self._teacher_file(runner))
        checkpoint.setdefault('meta', {})['progressive_shrinking'] = state

    def before_train(self, runner) -> None:
        model = self._model(runner)
        if not hasattr(model, 'mutator'):
            raise TypeError(
                f'{type(self).__name__} samples subnets of a supernet (an '
                f'OFA model with a mutator); the model is a '
                f'{type(model).__name__}: remove the hook from custom_hooks '
                '(a static subnet trains without it)')
        # A resumed run (not a fresh one that loaded weights) continues the
        # schedule where the checkpoint left it.
        if runner.iter > 0 and self._loaded is not None:
            self.started = list(self._loaded['started'])
        self._loaded = None
        self._enter(runner, self._position(runner))

    def before_train_epoch(self, runner) -> None:
        if self.by_epoch:
            self._enter(runner, runner.epoch)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        if not self.by_epoch:
            self._enter(runner, runner.iter)

    def _position(self, runner) -> int:
        return runner.epoch if self.by_epoch else runner.iter

    def _enter(self, runner, step: int) -> None:
        stage = self.stage_at(step)
        if stage['name'] == self.current:
            return
        # Neutral for the random generators: a resumed run enters its stage
        # before their saved state is restored, an uninterrupted one after.
        random_state = get_random_state()
        try:
            self._apply(runner, stage)
        finally:
            set_random_state(random_state)

    def _apply(self, runner, stage: dict) -> None:
        model = self._model(runner)
        first_time = stage['name'] not in self.started
        if first_time:
            self._start(runner, model, stage)
        model.mutator.set_constraints(stage['constraints'])
        model.num_subnets = stage['num_subnets']
        model.sampling = stage['sampling']
        if self.teacher_stage is not None and self.teacher_stage in \
                self.started and stage['name'] != self.teacher_stage:
            self._load_teacher(runner, model)
        self.current = stage['name']
        distilled = 'on' if getattr(model, 'teacher', None) is not None \
            else ('in place' if getattr(model, 'inplace_teacher', False)
                  else 'off')
        # The stage boundary as tools/analysis/analyze_logs.py reads it.
        print_log(
            f'progressive shrinking: stage {stage["name"]!r} '
            f'({"started" if first_time else "resumed"}), constraints '
            f'{stage["constraints"] or "none"}, {stage["num_subnets"]} '
            f'subnet(s) per step, sampling {model.sampling}; from epoch '
            f'{runner.epoch + 1}, iteration {runner.iter + 1}; distillation '
            f'{distilled}',
            logger='current')

    def _start(self, runner, model, stage: dict) -> None:
        """What happens once at the start of a stage (also when a resumed
        run enters it, so it depends on the schedule, not on this run)."""
        index = self.stages.index(stage)
        previous = self.stages[index - 1]['name'] if index else None
        if previous is not None and previous == self.teacher_stage:
            self._save_teacher(runner, model)
        if stage['reorganize'] is not None:
            model.reorganize_channels(stage['reorganize'])
            print_log(
                'progressive shrinking: middle channels sorted by importance'
                f' (expand_ratio_stage={stage["reorganize"]})',
                logger='current')
        if stage['reset_optimizer'] and index > 0:
            for optimizer in _optimizers(runner.optim_wrapper):
                optimizer.state = defaultdict(dict)
        self.started.append(stage['name'])

    def _save_teacher(self, runner, model) -> None:
        if get_rank() == 0:
            save_checkpoint_file(
                dict(
                    state_dict=model.state_dict(),
                    meta=dict(stage=self.teacher_stage)),
                self.teacher_path(runner))
        barrier()  # the file exists before any rank reads it

    def _load_teacher(self, runner, model) -> None:
        path = self._teacher_file(runner)
        if not path.is_file():
            looked = ', '.join(
                str(p) for p in self._teacher_candidates(runner))
            raise FileNotFoundError(
                f'the teacher of stage {self.teacher_stage!r} is in none of '
                f'{looked}; it is written when that stage ends')
        if path != self.teacher_path(runner).resolve():
            print_log(
                f'progressive shrinking: teacher from {path} (the '
                "resumed run's)",
                logger='current')
        model.set_teacher(
            model.build_teacher(checkpoint=str(path), subnet='max'))


def _optimizers(optim_wrapper) -> list:
    """The torch optimizers of an optim wrapper (or of a dict of them)."""
    wrappers = (
        optim_wrapper.values()
        if isinstance(optim_wrapper, dict) else [optim_wrapper])
    return [w.optimizer for w in wrappers]


@HOOKS.register_module()
class RandomSubnetSamplingHook(ProgressiveShrinkingHook):
    """Random subnet sampling (RSS): the full network, then random subnets
    of the whole space from the start (no progressive stages).

    Two stages of :class:`ProgressiveShrinkingHook` (so resume, the saved
    stage and the teacher work the same): ``full_net`` trains the largest
    subnet alone; ``random_subnets`` draws ``num_subnets`` subnets per step
    from everything the mutator allows, distilling from the final full net.

    Args:
        full_net_epochs (int): Length of the full-net stage in epochs (or
            iterations with ``by_epoch=False``); 0 starts sampling at once,
            e.g. from a loaded full net.
        num_subnets (int): Subnets per step while sampling. Defaults to 1.
        granularity (str): Random draws per ``'layer'`` (every block its own
            kernel size and expand ratio), per ``'stage'`` (a stage's blocks
            share them) or per ``'network'`` (one value per dimension).
            Defaults to 'layer'.
        anchor (bool): RSS anchor: instead of random subnets, the sampling
            stage trains the smallest subnet in its even epochs (or
            iterations with ``by_epoch=False``) and the largest in its odd
            ones, one subnet per step. Defaults to False.
        distill (bool, optional): Distil from the full net of the first
            stage (saved as ``<work_dir>/teacher_full_net.pth``). Defaults to
            True when there is a full-net stage.
        by_epoch (bool): Stage boundary in epochs. Defaults to True.
    """

    def __init__(self,
                 full_net_epochs: int,
                 num_subnets: int = 1,
                 granularity: str = 'layer',
                 anchor: bool = False,
                 distill: Optional[bool] = None,
                 by_epoch: bool = True):
        if not isinstance(full_net_epochs, int) or full_net_epochs < 0:
            raise ValueError(f'full_net_epochs = {full_net_epochs!r} must be '
                             'a non-negative integer')
        check_granularity(granularity)
        if anchor and num_subnets != 1:
            raise ValueError(f'anchor sampling trains one anchor subnet per '
                             f'step: num_subnets must be 1, got {num_subnets}')
        if distill is None:
            distill = full_net_epochs > 0
        if distill and full_net_epochs == 0:
            raise ValueError('distill=True needs a full-net stage '
                             '(full_net_epochs > 0); to distil from a '
                             'trained full net, set model.distillation')
        stages = [
            dict(
                name='random_subnets',
                begin=full_net_epochs,
                num_subnets=num_subnets,
                sampling=dict(granularity=granularity),
                reset_optimizer=False)
        ]
        if full_net_epochs > 0:
            stages.insert(0,
                          dict(name='full_net', sampling=dict(strategy='max')))
        else:
            stages[0]['begin'] = 0
        super().__init__(
            stages,
            by_epoch=by_epoch,
            teacher_stage='full_net' if distill else None)
        self.anchor = anchor

    def _enter(self, runner, step: int) -> None:
        super()._enter(runner, step)
        if self.anchor and self.current == 'random_subnets':
            offset = step - self.stage_at(step)['begin']
            self._model(runner).sampling = dict(strategy='max' if offset %
                                                2 else 'min')
