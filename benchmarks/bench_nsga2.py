"""One NSGA-II front against a sweep of constrained searches, and against
pymoo's NSGA-II, on the same encoding and scores.

    pip install pymoo   # optional: its column is left out without it
    python benchmarks/bench_nsga2.py
    python benchmarks/bench_nsga2.py --seeds 3 --generations 500

The space is the OFA MobileNetV3 w1.0 supernet's (resolutions 128..224
step 4); the score is the official ``AccuracyPredictor`` fitted to a
synthetic accuracy (as benchmarks/bench_search.py), the cost mmofa's FLOPs
table; every candidate is held to at most ``--max-flops`` MFLOPs. Per seed
and side by side in one process:

- ``nsga2``: mmofa's NSGA2Search, population 100, ``--generations``;
- ``sweep/8, same evaluations``: 8 EvolutionSearch runs (the official
  operators, population 100) at FLOPs limits evenly spread up to
  ``--max-flops``, with an eighth of the generations each, so that all
  eight evaluate as many candidates as the NSGA-II run; the sweep's answer
  is its 8 best subnets;
- ``sweep/8, full``: the same sweep with ``--generations`` each (8x the
  evaluations), the way a sweep is run today;
- ``pymoo``: pymoo's NSGA2 (integer sampling, SBX and polynomial mutation
  with rounding, duplicates eliminated) over the codec's genes with the
  same scores, the same limit, population and generations.

Each answer is scored by its hypervolume in (accuracy, MFLOPs) from the
reference (``--reference-accuracy`` %, ``--max-flops``): larger is better.
Prints hypervolume, front size, candidates evaluated and wall time per
side, then the ratios to the NSGA-II run.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_search import RESOLUTIONS, fit_synthetic, official_parts  # noqa


class Counted:
    """The predictor's scores (percent), counting the candidates scored."""

    def __init__(self, predictor, codec):
        self.predictor, self.codec, self.count = predictor, codec, 0

    def __call__(self, population):
        self.count += len(population)
        return self.predictor.predict(self.codec.encode(population)) * 100


def run_nsga2(codec, score, flops, args, seed, reference, trace):
    """The front; ``trace`` gets (seconds, hypervolume) per generation."""
    from mmofa.search import NSGA2Search
    search = NSGA2Search(
        codec,
        lambda p: np.stack([-score(p), flops(p)], 1),
        lambda p: flops(p) <= args.max_flops,
        population_size=args.population,
        seed=seed,
        reference=reference)
    start = time.perf_counter()
    state = search.run(
        args.generations,
        callback=lambda s: trace.append(
            (time.perf_counter() - start, s.best_history[-1])))
    return state.scores[state.front()]


def run_sweep(codec, score, flops, args, seed, generations):
    """The 8 best subnets of a sweep (tighter limits first, their best
    seeding the looser searches, as EvolutionSearchLoop does)."""
    from mmofa.search import EvolutionSearch, cost_constraint
    limits = np.linspace(args.max_flops / args.sweep, args.max_flops,
                         args.sweep)
    best, found = [], None
    for limit in limits:
        search = EvolutionSearch(
            codec,
            score,
            cost_constraint({'flops': flops}, {'flops': float(limit)}),
            population_size=args.population,
            seed=seed)
        state = search.run(generations,
                           search.initial_state(found) if found else None)
        winner = state.population[state.best()]
        found = winner if found is None else type(winner).concatenate(
            [found, winner])
        best.append((-state.scores[state.best()], float(flops(winner)[0])))
    return np.array(best)


def run_pymoo(codec, score, flops, args, seed):
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling
    from pymoo.optimize import minimize

    from mmofa.structures import Population
    names = codec.gene_names
    counts = np.concatenate([codec.gene_counts[n]
                             for n in names] + [[len(codec.resolutions)]])

    def population_of(x):
        x = np.asarray(x).round().astype(np.int64)
        genes, start = {}, 0
        for name in names:
            width = len(codec.gene_counts[name])
            genes[name] = x[:, start:start + width]
            start += width
        return Population(genes, x[:, -1])

    class Space(Problem):

        def __init__(self):
            super().__init__(
                n_var=len(counts),
                n_obj=2,
                n_ieq_constr=1,
                xl=np.zeros(len(counts)),
                xu=counts - 1.0,
                vtype=int)

        def _evaluate(self, x, out, *_, **__):
            population = population_of(x)
            cost = flops(population)
            out['F'] = np.stack([-score(population), cost], 1)
            out['G'] = (cost - args.max_flops)[:, None]

    algorithm = NSGA2(
        pop_size=args.population,
        sampling=IntegerRandomSampling(),
        crossover=SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        mutation=PM(eta=3.0, vtype=float, repair=RoundingRepair()),
        eliminate_duplicates=True)
    result = minimize(
        Space(),
        algorithm, ('n_gen', args.generations + 1),
        seed=seed,
        verbose=False)
    values = np.atleast_2d(result.F)
    return values[(values[:, 1] <= args.max_flops)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--population', type=int, default=100)
    parser.add_argument('--generations', type=int, default=500)
    parser.add_argument('--sweep', type=int, default=8)
    parser.add_argument('--max-flops', type=float, default=600.0)
    parser.add_argument('--reference-accuracy', type=float, default=60.0)
    args = parser.parse_args()

    from mmofa.apis import init_model
    from mmofa.models.task_modules import SlotCostTable
    from mmofa.search import hypervolume
    from mmofa.structures import MobileNetV3PopulationCodec
    model = init_model('configs/ofa/ofa_mbv3_w10_supernet.py')
    codec = MobileNetV3PopulationCodec(model.search_space, RESOLUTIONS)
    flops = SlotCostTable.flops(model.resource_estimator, codec)
    _, _, official_predictor, _ = official_parts(0)
    predictor = fit_synthetic(official_predictor, codec, flops, 0)
    predictor.eval()
    try:
        import pymoo
        pymoo_version = pymoo.__version__
    except ImportError:
        pymoo_version = None
    reference = [-args.reference_accuracy, args.max_flops]
    traces = {}
    sides = {
        'nsga2':
        lambda s, seed: run_nsga2(codec, s, flops, args, seed, reference,
                                  traces.setdefault(seed, [])),
        f'sweep/{args.sweep}, same evaluations':
        lambda s, seed: run_sweep(
            codec, s, flops, args, seed,
            max(1,
                round((args.generations + 1) / args.sweep) - 1)),
        f'sweep/{args.sweep}, full':
        lambda s, seed: run_sweep(codec, s, flops, args, seed, args.generations
                                  ),
    }
    if pymoo_version:
        sides[f'pymoo {pymoo_version} NSGA2'] = (
            lambda s, seed: run_pymoo(codec, s, flops, args, seed))
    print(f'OFA MobileNetV3 w1.0, {len(RESOLUTIONS)} resolutions, '
          f'population {args.population}, {args.generations} generations, '
          f'MFLOPs <= {args.max_flops:g}, hypervolume reference '
          f'({args.reference_accuracy:g} %, {args.max_flops:g} MFLOPs), '
          f'torch threads {torch.get_num_threads()}')
    header = (f'{"side":<28} {"seed":>4} {"hypervolume":>11} {"points":>6} '
              f'{"evaluated":>9} {"wall s":>7}')
    print(header)
    print('-' * len(header))
    results = {name: [] for name in sides}
    for seed in range(args.seeds):
        for name, run in sides.items():
            score = Counted(predictor, codec)
            start = time.perf_counter()
            values = run(score, seed)
            seconds = time.perf_counter() - start
            volume = hypervolume(values, reference)
            results[name].append((volume, seconds, score.count))
            print(f'{name:<28} {seed:>4} {volume:>11.2f} {len(values):>6} '
                  f'{score.count:>9} {seconds:>7.2f}')
    print('\nper side, median over seeds: hypervolume / nsga2\'s, '
          'wall time / nsga2\'s, candidates evaluated / nsga2\'s')
    ours = results['nsga2']
    for name, rows in results.items():
        ratios = [
            statistics.median(r[i] / o[i] for r, o in zip(rows, ours))
            for i in (0, 1, 2)
        ]
        print(f'{name:<28} ' + ' '.join(f'{r:>8.3f}' for r in ratios))
    print('\nNSGA-II until its front\'s hypervolume reaches a sweep\'s: '
          'generations, seconds, seconds / the sweep\'s (per seed)')
    for name, rows in results.items():
        if not name.startswith('sweep'):
            continue
        cells = []
        for seed, (volume, seconds, _) in enumerate(rows):
            reached = [(g + 1, t) for g, (t, v) in enumerate(traces[seed])
                       if v >= volume]
            cells.append(f'{reached[0][0]} gen {reached[0][1]:.2f} s '
                         f'({reached[0][1] / seconds:.3f})'
                         if reached else 'not reached')
        print(f'{name:<28} ' + '; '.join(cells))


if __name__ == '__main__':
    main()
