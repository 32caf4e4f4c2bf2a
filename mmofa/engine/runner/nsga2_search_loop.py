"""NSGA-II search of a supernet: the whole score-cost front in one run."""
import csv
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np
from mmengine.dist import is_main_process
from mmengine.logging import print_log

from mmofa.models.task_modules import COST_UNITS
from mmofa.registry import LOOPS
from mmofa.search import FrontState, NSGA2Search, cost_constraint
from .cost_search_loop import CostSearchLoop, check_limits, plot_score_cost
from .evolution_search_loop import constraint_name

FRONT_FIELDS = ('member', 'score', 'flops', 'params', 'latency', 'resolution',
                'subnet', 'checkpoint')


@LOOPS.register_module()
class NSGA2SearchLoop(CostSearchLoop):
    """Multi-objective search (NSGA-II), run by ``runner.test()``.

    Evolves a population of (subnet, resolution) candidates that maximises
    the score (an accuracy predictor's, or real evaluation after BN
    recalibration) and minimises one or two costs at once, within optional
    hard limits, and returns the non-dominated front: what a sweep of
    constraints (:class:`EvolutionSearchLoop`) answers with one search per
    limit. In ``work_dir/search/nsga2_<objectives>[_<limits>]/``:

    * ``front.csv``: one row per front member (ordered by the first cost):
      score, costs, resolution, its YAML and checkpoint;
    * ``members/member_<i>.yaml`` and, exported with BN recalibrated,
      ``member_<i>.pth`` and ``member_<i>_config.py`` per member;
    * ``front_<cost>.png``: score against the first cost, the final
      population, the front and, when a constraint sweep wrote
      ``work_dir/search/results.csv``, the sweep's subnets beside it;
    * ``state.json``, saved every ``save_interval`` generations: a rerun
      with the same settings resumes from it.

    Args:
        runner, dataloader, evaluator: As :class:`EvolutionSearchLoop`.
        objectives (str | list[str]): The costs minimised beside the
            score: one or two of ``flops``, ``params`` and ``latency``
            (needs ``latency_table``). Defaults to ``'flops'``.
        constraints (dict, optional): Hard upper limits, any costs (e.g.
            ``dict(params=5)``); every candidate satisfies them.
        resolutions (list[int]): Candidate input sizes.
        population_size (int): Defaults to 100.
        generations (int): Defaults to 100.
        mutation_ratio, arch_mutate_prob, resolution_mutate_prob, seed: As
            :class:`EvolutionSearchLoop` (the Once-for-All operators).
        max_exports (int, optional): Export at most this many members as
            static checkpoints, spread evenly along the first cost; None
            (default) exports every member. Every member gets its YAML.
        predictor, score_key, latency_table, calibrate_bn,
        calibration_dataloader, export, save_interval, log_interval, fp16:
            As :class:`EvolutionSearchLoop`.
    """

    state_class = FrontState

    def __init__(self,
                 runner,
                 dataloader,
                 evaluator,
                 objectives: Union[str, Sequence[str]] = 'flops',
                 constraints: Optional[dict] = None,
                 resolutions: Sequence[int] = (224, ),
                 population_size: int = 100,
                 generations: int = 100,
                 mutation_ratio: float = 0.5,
                 arch_mutate_prob: float = 0.1,
                 resolution_mutate_prob: float = 0.5,
                 seed: int = 0,
                 max_exports: Optional[int] = None,
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
        if isinstance(objectives, str):
            objectives = [objectives]
        self.objectives = list(objectives)
        unknown = [o for o in self.objectives if o not in COST_UNITS]
        if unknown or not 1 <= len(self.objectives) <= 2 or len(
                set(self.objectives)) != len(self.objectives):
            raise ValueError(
                f'test_cfg.objectives = {self.objectives!r}: give one or two '
                f'different costs of {sorted(COST_UNITS)}')
        self.constraints = check_limits(constraints or {},
                                        'test_cfg.constraints')
        self.search_cfg = dict(
            population_size=population_size,
            mutation_ratio=mutation_ratio,
            arch_mutate_prob=arch_mutate_prob,
            resolution_mutate_prob=resolution_mutate_prob,
            seed=seed)
        self.generations = int(generations)
        if max_exports is not None and int(max_exports) < 1:
            raise ValueError(f'test_cfg.max_exports = {max_exports!r} must '
                             'be at least 1, or None to export every member')
        self.max_exports = max_exports

    def limit_sets(self) -> List[dict]:
        # The objectives' costs must exist too (latency needs its table).
        return [self.constraints, {name: 0 for name in self.objectives}]

    @property
    def name(self) -> str:
        """``nsga2_flops``, ``nsga2_latency_params_flops400``..."""
        parts = ['nsga2', *self.objectives]
        if self.constraints:
            parts.append(constraint_name(self.constraints))
        return '_'.join(parts)

    # ------------------------------------------------------------ search
    def objective_values(self, population) -> np.ndarray:
        """``[N, 1 + costs]``: the negated score, then each cost."""
        return np.stack(
            [-self.score(population)] +
            [self.tables[name](population) for name in self.objectives], 1)

    def _search_all(self) -> dict:
        self._prepare()
        name = self.name
        directory = Path(self.runner.work_dir) / 'search' / name
        state_file = directory / 'state.json'
        settings = dict(
            self.search_cfg,
            objectives=self.objectives,
            constraints=self.constraints,
            resolutions=list(self.resolutions),
            scoring='predictor'
            if self.predictor is not None else f'evaluation:{self.score_key}')
        # A score of 0 and the limits bound the hypervolume where given.
        search = NSGA2Search(
            self.codec,
            self.objective_values,
            cost_constraint(self.tables, self.constraints),
            reference=[0.0] +
            [self.constraints.get(name) for name in self.objectives],
            **self.search_cfg)

        def progress(state: FrontState) -> str:
            values = state.scores[state.front()]
            return (f'front of {len(values)}: score '
                    f'{-values[:, 0].max():.3f}-{-values[:, 0].min():.3f}, ' +
                    ', '.join(f'{cost} {values[:, i + 1].min():.2f}-'
                              f'{values[:, i + 1].max():.2f}'
                              for i, cost in enumerate(self.objectives)) +
                    f', hypervolume {state.best_history[-1]:.4g}')

        state = self.evolve(search, name, state_file, settings, progress)
        members = self._write_front(state, directory)
        history = state.best_history or [0.0]
        return {
            f'{name}/front_size': len(members),
            f'{name}/hypervolume': history[-1],
            f'{name}/best_score': max(m['score'] for m in members)
        }

    # ------------------------------------------------------------ outputs
    def _write_front(self, state: FrontState, directory: Path) -> List[dict]:
        """Each front member's files and row, the CSV, the log table and
        the plot; returns the rows."""
        front = state.front()
        first_cost = self.tables[self.objectives[0]](state.population[front])
        front = front[np.argsort(first_cost, kind='stable')]
        exported = set(range(len(front)))
        if self.max_exports is not None and len(front) > self.max_exports:
            exported = set(
                np.linspace(0,
                            len(front) - 1,
                            self.max_exports).round().astype(int).tolist())
        subnets = self.codec.to_subnets(state.population[front])
        members = []
        for i, (index, subnet) in enumerate(zip(front, subnets)):
            row = dict(
                member=i,
                score=float(-state.scores[index, 0]),
                resolution=subnet.resolution,
                **self._costs(state.population[index]))
            row.update(
                self._export(
                    subnet,
                    directory / 'members' / f'member_{i:03d}.pth',
                    checkpoint=self.export and i in exported))
            members.append(row)
        if is_main_process():
            self._write_summary(state, members, directory)
        return members

    def _write_summary(self, state: FrontState, members: List[dict],
                       directory: Path) -> None:
        self._write_rows(
            directory / 'front.csv', members, FRONT_FIELDS, '>6',
            f'search {self.name}: front of {len(members)} subnets')
        cost = self.objectives[0]
        lines = [('front', [m[cost]
                            for m in members], [m['score'] for m in members])]
        sweep = Path(self.runner.work_dir) / 'search' / 'results.csv'
        with_sweep = ''
        if sweep.is_file():
            with open(sweep) as file:
                rows = [r for r in csv.DictReader(file) if r.get(cost)]
            rows.sort(key=lambda r: float(r[cost]))
            if rows:
                with_sweep = f' (with the constraint sweep of {sweep})'
                lines.append(
                    (f'constraint sweep ({sweep.name})',
                     [float(r[cost])
                      for r in rows], [float(r['score']) for r in rows]))
        plot = directory / f'front_{cost}.png'
        plot_score_cost(
            plot,
            cost,
            clouds=[('final population', self.tables[cost](state.population),
                     -state.scores[:, 0])],
            lines=lines)
        print_log(f'front plot: {plot}{with_sweep}', logger='current')
