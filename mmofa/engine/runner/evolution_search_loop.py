"""Evolutionary search of subnets under FLOPs, params and latency limits."""
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

from mmengine.dist import is_main_process
from mmengine.logging import print_log

from mmofa.models.task_modules import COST_UNITS
from mmofa.registry import LOOPS
from mmofa.search import EvolutionSearch, EvolutionState, cost_constraint
from mmofa.structures import Population
from .cost_search_loop import CostSearchLoop, check_limits, plot_score_cost

CSV_FIELDS = ('constraint', 'score', 'flops', 'params', 'latency',
              'resolution', 'subnet', 'checkpoint')


@LOOPS.register_module()
class EvolutionSearchLoop(CostSearchLoop):
    """Once-for-All's evolutionary search, run by ``runner.test()``.

    For each constraint (a sweep when several are given): evolve a
    population of (subnet, resolution) candidates of the supernet under the
    limits, score each candidate by an accuracy predictor or by real
    evaluation (BN recalibration + the test dataloader and evaluator), and
    write the best subnet's YAML and exported static checkpoint (after BN
    recalibration) to ``work_dir/search/<constraint>/``. The state is saved
    every ``save_interval`` generations, so a rerun with the same settings
    resumes where it stopped. A CSV of the results and, for a sweep, a plot
    of score against cost go to ``work_dir/search/``.

    Args:
        runner: The runner.
        dataloader (dict): Test dataloader (real evaluation).
        evaluator (dict | list): Test evaluator (real evaluation).
        constraints (dict | list[dict]): Upper limits, any of ``flops``
            (MFLOPs), ``params`` (millions) and ``latency`` (ms, needs
            ``latency_table``); a list runs a sweep.
        resolutions (list[int]): Candidate input sizes.
        population_size (int): Defaults to 100 (official).
        generations (int): Defaults to 500 (official).
        parent_ratio (float): Defaults to 0.25 (official).
        mutation_ratio (float): Defaults to 0.5 (official).
        arch_mutate_prob (float): Defaults to 0.1 (official).
        resolution_mutate_prob (float): Defaults to 0.5 (official).
        seed (int): Seed of the search. Defaults to 0.
        predictor, latency_table, export, log_interval: As
            :class:`CostSearchLoop`.
        score_key (str): Metric used as the score in real evaluation.
            Defaults to ``'accuracy/top1'``.
        calibrate_bn (dict | None): BN recalibration as in
            :class:`SubnetValLoop`; None keeps the stored statistics.
        calibration_dataloader (dict, optional): Calibration data; defaults
            to the config's ``train_dataloader``.
        save_interval (int): Generations between saved states.
        fp16 (bool): Evaluate in fp16. Defaults to False.
    """
    stage = 'test'

    def __init__(self,
                 runner,
                 dataloader,
                 evaluator,
                 constraints: Union[dict, Sequence[dict]],
                 resolutions: Sequence[int] = (224, ),
                 population_size: int = 100,
                 generations: int = 500,
                 parent_ratio: float = 0.25,
                 mutation_ratio: float = 0.5,
                 arch_mutate_prob: float = 0.1,
                 resolution_mutate_prob: float = 0.5,
                 seed: int = 0,
                 predictor: Optional[dict] = None,
                 score_key: str = 'accuracy/top1',
                 latency_table: Optional[str] = None,
                 calibrate_bn: Optional[dict] = dict(),
                 calibration_dataloader: Optional[dict] = None,
                 export: bool = True,
                 save_interval: int = 10,
                 log_interval: Optional[int] = None,
                 fp16: bool = False):
        super().__init__(runner, dataloader, evaluator, resolutions, score_key,
                         predictor, latency_table, calibrate_bn,
                         calibration_dataloader, export, save_interval,
                         log_interval, fp16)
        if isinstance(constraints, dict):
            constraints = [constraints]
        self.constraints = [
            check_limits(c, f'test_cfg.constraints[{i}]')
            for i, c in enumerate(constraints)
        ]
        if not self.constraints or not all(self.constraints):
            raise ValueError(
                f'constraints = {constraints!r}: give at least one limit, '
                f'e.g. dict(flops=400); allowed: {sorted(COST_UNITS)}')
        self.search_cfg = dict(
            population_size=population_size,
            parent_ratio=parent_ratio,
            mutation_ratio=mutation_ratio,
            arch_mutate_prob=arch_mutate_prob,
            resolution_mutate_prob=resolution_mutate_prob,
            seed=seed)
        self.generations = int(generations)

    def limit_sets(self) -> List[dict]:
        return self.constraints

    # ---------------------------------------------------------------- run
    def _search_all(self) -> dict:
        self._prepare()
        results = {}
        # Tighter limits first: their best subnets seed the looser ones.
        for index in sorted(
                range(len(self.constraints)),
                key=lambda i: _tightness(self.constraints[i])):
            results[index] = self.search(self.constraints[index],
                                         list(results.values()))
        results = keep_best_across(
            [results[i] for i in range(len(self.constraints))], self.tables)
        for result in results:
            result.update(
                self._export(
                    result.pop('subnet_object'),
                    result['directory'] / 'best.pth'))
        metrics = {}
        for result in results:
            for key in ('score', 'flops', 'params', 'latency'):
                if result.get(key) is not None:
                    metrics[f'{result["constraint"]}/{key}'] = result[key]
        if is_main_process():
            self._write_summary(results)
        return metrics

    def search(self, limits: dict, finished: Sequence[dict] = ()) -> dict:
        """Evolve under ``limits``; a new search starts from a random
        population seeded with the best subnets of ``finished`` searches
        that satisfy ``limits``."""
        name = constraint_name(limits)
        directory = Path(self.runner.work_dir) / 'search' / name
        state_file = directory / 'state.json'
        settings = dict(
            self.search_cfg,
            constraint=limits,
            resolutions=list(self.resolutions),
            scoring='predictor'
            if self.predictor is not None else f'evaluation:{self.score_key}')
        evolution = EvolutionSearch(self.codec, self.score,
                                    cost_constraint(self.tables, limits),
                                    **self.search_cfg)
        seeds = None
        if finished:
            seeds = Population.concatenate([r['best'] for r in finished])

        def progress(state: EvolutionState) -> str:
            leader, score = state.leader(self.codec.gene_names)
            return f'best score {score:.3f} (' + ', '.join(
                f'{k} {v:.2f}' for k, v in self._costs(leader).items()) + ')'

        state = self.evolve(evolution, name, state_file, settings, progress,
                            seeds)
        population = dict(
            scores=state.scores,
            **{
                k: t(state.population)
                for k, t in self.tables.items()
            })
        result = dict(
            constraint=name,
            limits=limits,
            directory=directory,
            population=population)
        result.update(
            self._describe(state.population[state.best()],
                           float(state.scores[state.best()])))
        return result

    def _describe(self, best: Population, score: float) -> dict:
        subnet = self.codec.to_subnets(best)[0]
        return dict(
            best=best,
            score=score,
            resolution=subnet.resolution,
            subnet_object=subnet,
            **self._costs(best))

    def _write_summary(self, results: List[dict]) -> None:
        directory = Path(self.runner.work_dir) / 'search'
        self._write_rows(directory / 'results.csv', results, CSV_FIELDS, '<24',
                         'search results')
        if len(results) > 1:
            plot_pareto(results, self._plot_cost(),
                        directory / f'pareto_{self._plot_cost()}.png')

    def _plot_cost(self) -> str:
        names = set().union(*self.constraints)
        return 'latency' if 'latency' in names else (
            'flops' if 'flops' in names else sorted(names)[0])


def keep_best_across(results: List[dict], tables: Dict) -> List[dict]:
    """Give each search result of a sweep the best subnet any search of
    the sweep found within its limits (the candidate entries ``best``,
    ``score``, ``resolution``, ``subnet_object`` and its costs), so that
    the best score never falls as a limit loosens."""
    for result in results:
        allowed = cost_constraint(tables, result['limits'])
        for other in results:
            if other['score'] > result['score'] and bool(
                    allowed(other['best'])[0]):
                print_log(
                    f'search {result["constraint"]}: the best subnet of '
                    f'{other["constraint"]} ({other["score"]:.3f}) is within '
                    f'these limits and beats this search\'s '
                    f'({result["score"]:.3f}); it is kept',
                    logger='current')
                for key in ('best', 'score', 'resolution', 'subnet_object',
                            *tables):
                    result[key] = other[key]
    return results


def _tightness(limits: dict) -> tuple:
    """A sort key putting tighter limits of the same costs first."""
    return tuple(sorted(limits)), tuple(limits[k] for k in sorted(limits))


def constraint_name(limits: dict) -> str:
    """``flops400_params5`` for ``dict(flops=400, params=5)``."""
    return '_'.join(f'{k}{v:g}' for k, v in sorted(limits.items()))


def plot_pareto(results: List[dict], cost: str, path: Path) -> None:
    """Score against ``cost``: each final population (dots) and the best
    subnet of each constraint (line)."""
    best = sorted(results, key=lambda r: r[cost])
    plot_score_cost(
        path,
        cost,
        clouds=[(f'{r["constraint"]}: final population', r['population'][cost],
                 r['population']['scores']) for r in results],
        lines=[('best per constraint', [r[cost] for r in best],
                [r['score'] for r in best])])
