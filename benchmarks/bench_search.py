"""mmofa's evolutionary search vs the official ``EvolutionFinder``.

    python benchmarks/bench_search.py                  # 400 MFLOPs, 3 seeds
    python benchmarks/bench_search.py --flops 300 500 --seeds 5

Both search the OFA MobileNetV3 w1.0 space (resolutions 128..224 step 4)
with the same hyperparameters (official defaults: population 100, 500
generations, parent ratio 0.25, mutation ratio 0.5, mutate probability
0.1, resolution mutate probability 0.5), the same accuracy predictor
weights (the official ``AccuracyPredictor``, seeded and given a spread of
predictions by fitting it to a synthetic accuracy) and the same FLOPs
constraint; the official side prices candidates with its
``Mbv3FLOPsModel``. Per run: wall time, the best predicted accuracy and the
best subnet's FLOPs by the official model. Runs alternate between the two
sides, in one process.
"""
import argparse
import random
import statistics
import time

import numpy as np
import torch

RESOLUTIONS = list(range(128, 225, 4))


def official_parts(seed):
    from ofa.imagenet_classification.elastic_nn.networks import OFAMobileNetV3
    from ofa.nas.accuracy_predictor import (AccuracyPredictor,
                                            MobileNetArchEncoder)
    from ofa.nas.efficiency_predictor import Mbv3FLOPsModel
    torch.manual_seed(seed)
    net = OFAMobileNetV3(
        ks_list=[3, 5, 7], expand_ratio_list=[3, 4, 6], depth_list=[2, 3, 4])
    encoder = MobileNetArchEncoder(
        image_size_list=RESOLUTIONS,
        ks_list=[3, 5, 7],
        expand_list=[3, 4, 6],
        depth_list=[2, 3, 4])
    predictor = AccuracyPredictor(encoder, device='cpu')
    return net, encoder, predictor, Mbv3FLOPsModel(net)


def fit_synthetic(predictor, codec, flops_table, seed):
    """Fit the predictor to a synthetic accuracy that grows with FLOPs and
    resolution, so that its predictions differ between subnets as a real
    predictor's do. Both sides then use these weights."""
    from mmofa.models.task_modules import MLPAccuracyPredictor
    rng = np.random.default_rng(seed)
    population = codec.random(2000, rng)
    flops = flops_table(population)
    sizes = codec.resolution_values(population)
    target = 0.6 + 0.15 * np.log(flops / flops.min()) / np.log(
        flops.max() / flops.min()) + 0.02 * (sizes - 128) / 96 + \
        0.01 * rng.standard_normal(len(flops))
    ours = MLPAccuracyPredictor(codec.encoding_size)
    ours.load_state_dict(predictor.state_dict())
    ours.fit(
        codec.encode(population), target, epochs=30, seed=seed, log_interval=0)
    predictor.load_state_dict(ours.state_dict())
    return ours


def run_official(finder, encoder, flops_model, constraint, seed, args):
    random.seed(seed)
    np.random.seed(seed)
    start = time.perf_counter()
    _, (acc, arch, _) = finder.run_evolution_search(
        constraint,
        verbose=False,
        population_size=args.population,
        max_time_budget=args.generations)
    seconds = time.perf_counter() - start
    return seconds, acc, flops_model.get_efficiency(arch)


def run_mmofa(codec, predictor, flops_table, flops_model, constraint, seed,
              args):
    from mmofa.search import EvolutionSearch, cost_constraint
    from mmofa.utils.threads import torch_threads
    search = EvolutionSearch(
        codec,
        lambda population: predictor.predict(codec.encode(population)),
        cost_constraint({'flops': flops_table}, {'flops': constraint}),
        population_size=args.population,
        seed=seed)
    start = time.perf_counter()
    with torch_threads(args.threads):
        state = search.run(args.generations)
    seconds = time.perf_counter() - start
    best = state.best()
    subnet = codec.to_subnets(state.population[best])[0]
    arch = subnet.to_arch_dict(codec.space)
    arch['image_size'] = subnet.resolution
    return seconds, float(state.scores[best]), flops_model.get_efficiency(arch)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--flops', type=float, nargs='+', default=[400.0])
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--population', type=int, default=100)
    parser.add_argument('--generations', type=int, default=500)
    parser.add_argument(
        '--load',
        type=int,
        nargs='+',
        default=[0],
        help='busy processes competing, one run per count (e.g. 0 2: idle, '
        'then two busy cores)')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch threads of mmofa\'s predictor scoring (default: 1, as '
        'the search loops score)')
    args = parser.parse_args()

    from machine_load import busy_processes
    from ofa.nas.search_algorithm import EvolutionFinder

    from mmofa.apis import init_model
    from mmofa.models.task_modules import SlotCostTable
    from mmofa.structures import MobileNetV3PopulationCodec
    model = init_model('configs/ofa/ofa_mbv3_w10_supernet.py')
    codec = MobileNetV3PopulationCodec(model.search_space, RESOLUTIONS)
    flops_table = SlotCostTable.flops(model.resource_estimator, codec)
    net, encoder, official_predictor, flops_model = official_parts(0)
    predictor = fit_synthetic(official_predictor, codec, flops_table, 0)
    predictor.eval()
    finder = EvolutionFinder(flops_model, official_predictor)

    print(f'evolution search, OFA MobileNetV3 w1.0, {len(RESOLUTIONS)} '
          f'resolutions, population {args.population}, {args.generations} '
          f'generations')
    header = (f'{"busy":>4} {"MFLOPs <=":>9} {"seed":>4} {"official s":>10} '
              f'{"mmofa s":>8} {"speed-up":>8} {"official acc":>12} '
              f'{"mmofa acc":>9} {"official MFLOPs":>15} {"mmofa MFLOPs":>12}')
    print(header)
    print('-' * len(header))
    speedups, summary = {}, []
    for load in args.load:
        with busy_processes(load):
            for constraint in args.flops:
                accs = []
                for seed in range(args.seeds):
                    theirs = run_official(finder, encoder, flops_model,
                                          constraint, seed, args)
                    ours = run_mmofa(codec, predictor, flops_table,
                                     flops_model, constraint, seed, args)
                    speedups.setdefault(load, []).append(theirs[0] / ours[0])
                    accs.append((theirs[1], ours[1]))
                    if theirs[2] > constraint or ours[2] > constraint:
                        raise RuntimeError(
                            f'a result is over {constraint} MFLOPs')
                    print(f'{load:>4} {constraint:>9.0f} {seed:>4} '
                          f'{theirs[0]:>10.2f} {ours[0]:>8.3f} '
                          f'{speedups[load][-1]:>7.1f}x '
                          f'{theirs[1] * 100:>12.3f} {ours[1] * 100:>9.3f} '
                          f'{theirs[2]:>15.1f} {ours[2]:>12.1f}')
                summary.append((load, constraint, accs))
    for load, values in speedups.items():
        print(f'\n{load} busy processes: median speed-up '
              f'{statistics.median(values):.1f}x, lowest '
              f'{min(values):.1f}x')
    print('best predicted accuracy (%), mean over seeds: busy, MFLOPs, '
          'official, mmofa (mmofa >= official in k of n seeds)')
    for load, constraint, accs in summary:
        wins = sum(o >= t for t, o in accs)
        theirs, ours = (
            statistics.mean(a[i] for a in accs) * 100 for i in (0, 1))
        print(f'{load:>4} {constraint:>9.0f} {theirs:.3f} {ours:.3f} '
              f'({wins} of {len(accs)})')


if __name__ == '__main__':
    main()
