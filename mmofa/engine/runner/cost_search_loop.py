"""What the searches of subnets under costs share: the cost tables (FLOPs,
params and, from a file, latency), scoring by an accuracy predictor or by
real evaluation (cached per subnet), export of found subnets and saved
states to resume from."""
import copy
import csv
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from mmengine.dist import is_main_process
from mmengine.logging import print_log

from mmofa.engine.progress import ProgressLog
from mmofa.engine.subnet_export import save_subnet
from mmofa.models.task_modules import (COST_UNITS, SlotCostTable,
                                       load_latency_table, load_predictor)
from mmofa.models.utils import recalibrate_bn
from mmofa.search import EvolutionState, cost_constraint
from mmofa.structures import Population, write_subnet_file
from mmofa.utils.arguments import check_keys
from mmofa.utils.threads import torch_threads
from .subnet_loops import SubnetScoringLoop, run_subnet_loop


class CostSearchLoop(SubnetScoringLoop):
    """The base of :class:`EvolutionSearchLoop` and
    :class:`NSGA2SearchLoop`, run by ``runner.test()``.

    Args:
        runner, dataloader, evaluator, resolutions, score_key,
        calibrate_bn, calibration_dataloader, save_interval, fp16: As
            :class:`SubnetScoringLoop`.
        predictor (dict, optional): ``dict(checkpoint=PATH)``: score by the
            accuracy predictor in PATH (mmofa or official format). None
            scores by real evaluation.
        latency_table (str | dict, optional): A latency lookup table
            written by ``tools/analysis/build_latency_table.py``, or
            ``dict(file=..., runtime='onnxruntime', batch_size=1)``: the
            table must then have been measured in that runtime at that
            batch size (else it is refused by name).
        export (bool): Export each found subnet as a static checkpoint.
        log_interval (int, optional): Generations between progress lines;
            by default 50 with a predictor, every generation with real
            evaluation.
    """
    stage = 'test'
    #: The class of the saved search states.
    state_class = EvolutionState

    def __init__(self, runner, dataloader, evaluator, resolutions,
                 score_key: str, predictor: Optional[dict], latency_table,
                 calibrate_bn: Optional[dict],
                 calibration_dataloader: Optional[dict], export: bool,
                 save_interval: int, log_interval: Optional[int], fp16: bool):
        super().__init__(runner, dataloader, evaluator, resolutions, score_key,
                         calibrate_bn, calibration_dataloader, save_interval,
                         fp16)
        self.predictor_cfg = predictor
        self.latency_table = latency_table
        self.export = export
        self.log_interval = log_interval
        self._scores: Dict[bytes, float] = {}
        self._progress_task = 'search: candidates evaluated'

    def limit_sets(self) -> List[dict]:
        """Every set of limits the search applies (their cost names are
        checked before it starts)."""
        raise NotImplementedError

    def run(self) -> dict:
        return run_subnet_loop(self, self._search_all)

    def _search_all(self) -> dict:
        raise NotImplementedError

    # ------------------------------------------------------------- set-up
    def _prepare(self) -> None:
        model = self.model
        self.codec = self.build_codec()
        estimator = model.resource_estimator
        self.tables = dict(
            flops=SlotCostTable.flops(estimator, self.codec),
            params=SlotCostTable.params(estimator, self.codec))
        if self.latency_table is not None:
            table = self.latency_table
            if not isinstance(table, dict):
                table = dict(file=table)
            check_keys(table, ('runtime', 'batch_size', 'corrected'),
                       'test_cfg.latency_table', ('file', ))
            self.tables['latency'] = load_latency_table(
                table['file'], model, self.codec, table.get('runtime'),
                table.get('batch_size'), table.get('corrected', True))
        for limits in self.limit_sets():
            cost_constraint(self.tables, limits)  # unknown names fail here
        self.predictor = None
        if self.log_interval is None:
            self.log_interval = 1 if self.predictor_cfg is None else 50
        if self.predictor_cfg is not None:
            check_keys(self.predictor_cfg, (), 'test_cfg.predictor',
                       ('checkpoint', ))
            device = next(model.parameters()).device
            self.predictor = load_predictor(self.predictor_cfg['checkpoint'],
                                            self.codec.encoding_size, device)

    # ------------------------------------------------------------ search
    def evolve(self,
               search,
               name: str,
               state_file: Path,
               settings: dict,
               progress: Callable,
               seeds: Optional[Population] = None):
        """Run ``search`` (an :class:`EvolutionSearch` or
        :class:`NSGA2Search`) to ``generations``: from the state saved in
        ``state_file`` with the same ``settings``, or from a new initial
        population (``seeds`` first). Saves the state every
        ``save_interval`` generations and at the end; every
        ``log_interval`` generations logs ``progress(state)`` with the
        time. Returns the final state (``search.run``'s: the best
        candidate found in the population)."""
        self._progress_task = (f'search {name}: initial population: '
                               'candidates evaluated')
        state = self._load_state(state_file, settings)
        start = time.perf_counter()

        def label_next(done: int) -> None:
            self._progress_task = (f'search {name}: generation {done + 1}/'
                                   f'{self.generations}: candidates evaluated')

        latest = [state]  # the last state before search.run finishes it

        def after_generation(state) -> None:
            latest[0] = state
            done = state.generation
            label_next(done)
            if done % self.log_interval == 0 or done == self.generations:
                print_log(
                    f'search {name}: generation {done}/{self.generations}, '
                    f'{progress(state)}, {time.perf_counter() - start:.1f} s',
                    logger='current')
            if done % self.save_interval == 0:
                self._save_state(state_file, settings, state)

        with self.scoring_threads():
            if state is None:
                state = search.initial_state(seeds)
            else:
                print_log(
                    f'search {name}: resuming at generation '
                    f'{state.generation}/{self.generations} from {state_file}',
                    logger='current')
            latest[0] = state
            label_next(state.generation)
            state = search.run(self.generations, state, after_generation)
        # The state as a longer search would go on from it.
        self._save_state(state_file, settings, latest[0])
        return state

    def scoring_threads(self):
        """Predictor scoring runs on one torch thread: its batches are
        small (100 codes per generation), and on a busy machine two
        threads made each call several times slower
        (benchmarks/bench_search.py --load); real evaluation keeps the
        run's threads."""
        if self.predictor is None:
            return nullcontext()
        return torch_threads(1)

    # ------------------------------------------------------------ scoring
    def score(self, population: Population) -> np.ndarray:
        """Scores in percent: predicted, or measured (cached per subnet,
        shared by every search of the loop)."""
        if self.predictor is not None:
            return self.predictor.predict(self.codec.encode(population)) * 100
        keys = self.codec.unique_keys(population)
        subnets = self.codec.to_subnets(population)
        scores = np.empty(len(population))
        new = len({k for k in keys if k not in self._scores})
        progress = ProgressLog(new, self._progress_task, interval=30.0)
        for i, (key, subnet) in enumerate(zip(keys, subnets)):
            if key not in self._scores:
                self._scores[key] = self.measure_score(subnet, self.score_key)
                progress.update()
            scores[i] = self._scores[key]
        return scores

    def _costs(self, population: Population) -> dict:
        return {k: float(t(population)[0]) for k, t in self.tables.items()}

    # ------------------------------------------------------------ outputs
    def _export(self,
                subnet,
                out_file: Path,
                checkpoint: Optional[bool] = None) -> dict:
        """A subnet's YAML and (BN recalibrated) static checkpoint
        ``out_file``; only the YAML (``<stem>.yaml``) when ``checkpoint``
        (by default ``export``) is False."""
        model = self.model
        model.set_subnet(subnet)
        files = {}
        checkpoint = self.export if checkpoint is None else checkpoint
        if checkpoint and self.calibrate_bn is not None:
            recalibrate_bn(
                model,
                self.subnet_evaluator.calibration_batches(subnet.resolution))
        if is_main_process():
            if checkpoint:
                # Its config tests it as it is (BN already recalibrated).
                cfg = copy.deepcopy(self.runner.cfg)
                cfg.test_cfg = dict(
                    type='mmofa.SubnetTestLoop',
                    resolutions=[subnet.resolution],
                    calibrate_bn=None)
                paths = save_subnet(
                    model,
                    out_file,
                    base_cfg=cfg,
                    dataset_meta=self.class_names())
                files = dict(
                    subnet=str(paths['subnet']),
                    checkpoint=str(paths['checkpoint']))
            else:
                path = write_subnet_file(
                    model.dump_subnet(fmt='mmofa'),
                    out_file.with_suffix('.yaml'))
                files = dict(subnet=str(path))
        return files

    def _write_rows(self, path: Path, rows: List[dict], fields: Sequence[str],
                    label_format: str, title: str) -> None:
        """``rows`` to the CSV ``path`` (columns ``fields``) and as a table
        in the log under ``title``: the first field (formatted by
        ``label_format``), the score, each cost, the size and the
        subnet."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, 'w', newline='') as file:
            writer = csv.DictWriter(file, fieldnames=fields)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: row.get(k, '') for k in fields})
        label = fields[0]
        lines = [
            f'{label:{label_format}} {"score":>8} ' +
            ' '.join(f'{COST_UNITS[k]:>10}'
                     for k in self.tables) + f' {"size":>5}  subnet'
        ]
        for row in rows:
            lines.append(f'{row[label]:{label_format}} {row["score"]:>8.3f} ' +
                         ' '.join(f'{row[k]:>10.2f}' for k in self.tables) +
                         f' {row["resolution"]:>5}  {row.get("subnet", "")}')
        print_log(f'{title} ({path}):\n' + '\n'.join(lines), logger='current')

    # ------------------------------------------------------------- resume
    def _save_state(self, path: Path, settings: dict,
                    state: EvolutionState) -> None:
        self.save_progress(
            path, settings,
            dict(
                state=state.to_dict(),
                scores_cache={
                    k.hex(): v
                    for k, v in self._scores.items()
                }))

    def _load_state(self, path: Path,
                    settings: dict) -> Optional[EvolutionState]:
        data = self.load_progress(path, settings)
        if data is None:
            return None
        self._scores.update({
            bytes.fromhex(k): v
            for k, v in data['scores_cache'].items()
        })
        return self.state_class.from_dict(data['state'], self.codec.gene_names)


def check_limits(limits, where: str) -> dict:
    """``limits`` (cost name -> upper limit) as a dict; anything else is an
    error naming ``where`` it came from."""
    if not isinstance(limits, dict):
        raise ValueError(
            f'{where} = {limits!r} is not a dict such as dict(flops=300). '
            '--cfg-options cannot give dicts: set the limits in the config, '
            'or change one value with e.g. test_cfg.constraints.0.flops=250')
    return dict(limits)


def plot_score_cost(path: Path,
                    cost: str,
                    clouds: Sequence[tuple] = (),
                    lines: Sequence[tuple] = ()) -> None:
    """A PNG of score against ``cost``: ``clouds`` of ``(label, costs,
    scores)`` as dots, ``lines`` of ``(label, costs, scores)`` as lines
    with markers."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(6, 4.5))
    for label, costs, scores in clouds:
        axes.scatter(costs, scores, s=6, alpha=0.3, label=label)
    for (label, costs, scores), style in zip(lines, ('k-o', 'r--x', 'b:s')):
        axes.plot(costs, scores, style, label=label)
    axes.set_xlabel(f'{cost} ({COST_UNITS[cost]})')
    axes.set_ylabel('score (top-1 %)')
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
