"""The learning rate of a progressive-shrinking schedule run in one job."""
import math
from typing import List, Sequence

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from mmofa.registry import PARAM_SCHEDULERS
from mmofa.utils.arguments import check_keys


@PARAM_SCHEDULERS.register_module()
class StagedCosineLR(LRSchedulerMixin, _ParamScheduler):
    """Per stage: linear warmup, then cosine to 0 (Once-for-All).

    Each stage has its own peak ``lr_mult * lr`` of the optimizer (after
    ``auto_scale_lr``), like the official stage-by-stage runs that each
    start a fresh schedule. The rate is a closed form of the step, so a
    resumed run gets exactly the rates of an uninterrupted one. With
    ``convert_to_iter_based=True`` it changes every iteration, as the
    official schedule does.

    Args:
        optimizer: Wrapped optimizer.
        stages (list[dict]): In order: ``length`` (steps, warmup included),
            ``lr_mult`` (default 1.0), ``warmup`` (steps, default 0) and
            ``warmup_start`` (the first warmup rate as a fraction of the
            peak, default 0; the official runs start at the per-GPU rate,
            1/32 of the peak).
        by_epoch (bool): Steps are epochs. Defaults to True.
        last_step (int): Defaults to -1.
        verbose (bool): Defaults to False.
    """

    def __init__(self,
                 optimizer,
                 stages: Sequence[dict],
                 begin: int = 0,
                 end: int = INF,
                 by_epoch: bool = True,
                 last_step: int = -1,
                 verbose: bool = False):
        self.stages = _check_stages(stages)
        super().__init__(
            optimizer,
            begin=begin,
            end=end,
            last_step=last_step,
            by_epoch=by_epoch,
            verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls,
                              *args,
                              stages,
                              epoch_length,
                              begin=0,
                              end=INF,
                              by_epoch=True,
                              **kwargs):
        """An iteration-based instance from stages given in epochs."""
        assert by_epoch, 'only epoch-based stages convert to iterations'
        begin = int(begin * epoch_length)
        end = end if end == INF else int(end * epoch_length)
        stages = [
            dict(
                stage,
                length=int(stage['length'] * epoch_length),
                warmup=int(stage.get('warmup', 0) * epoch_length))
            for stage in _check_stages(stages)
        ]
        return cls(
            *args,
            stages=stages,
            begin=begin,
            end=end,
            by_epoch=False,
            **kwargs)

    def factor(self, step: int) -> float:
        """The learning rate at ``step`` as a multiple of the base rate."""
        start = 0
        for stage in self.stages:
            if step < start + stage['length']:
                t = step - start
                peak = stage['lr_mult']
                warmup = stage['warmup']
                if t < warmup:
                    start_factor = stage['warmup_start']
                    return peak * (
                        start_factor + (1 - start_factor) * (t + 1) / warmup)
                span = stage['length'] - warmup
                return 0.5 * peak * (1 + math.cos(math.pi *
                                                  (t - warmup) / span))
            start += stage['length']
        return 0.0

    def _get_value(self) -> List[float]:
        factor = self.factor(self.last_step - self.begin)
        return [base * factor for base in self.base_values]


def _check_stages(stages: Sequence[dict]) -> List[dict]:
    checked = []
    for index, stage in enumerate(stages):
        check_keys(stage, ('lr_mult', 'warmup', 'warmup_start'),
                   f'StagedCosineLR stage {index}', ('length', ))
        stage = dict(dict(lr_mult=1.0, warmup=0, warmup_start=0.0), **stage)
        if not 0 <= stage['warmup'] < stage['length']:
            raise ValueError(f'stage {index}: warmup {stage["warmup"]} must '
                             f'be shorter than its length {stage["length"]}')
        checked.append(stage)
    if not checked:
        raise ValueError('stages must not be empty')
    return checked
