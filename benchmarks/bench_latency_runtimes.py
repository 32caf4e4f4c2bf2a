"""How well latency tables predict end-to-end latency, per runtime.

    python benchmarks/bench_latency_runtimes.py           # torch, onnxruntime
    python benchmarks/bench_latency_runtimes.py --runtimes onnxruntime \
        --config configs/ofa/ofa_mbv3_w10_supernet.py --subnets 40

For each runtime, builds the latency table of the supernet
(tools/analysis/build_latency_table.py's measurement: every part, the
per-call overhead counted once) and times ``--subnets`` random subnets
end to end, exported, in the same runtime. Reports the table's mean
absolute percentage error and Kendall tau over all of them, and, because
block sums miss what a runtime fuses across blocks, the same after a
linear correction (``a * table + b``) fitted on the first half and scored
on the other half. One thread, batch 1 by default; an idle machine gives
the figures of docs/benchmarks.md.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--config', default=str(REPO / 'configs/ofa/ofa_mbv3_w10_supernet.py'))
    parser.add_argument(
        '--runtimes', nargs='+', default=['torch', 'onnxruntime'])
    parser.add_argument(
        '--resolutions', type=int, nargs='+', default=[160, 192, 224])
    parser.add_argument('--subnets', type=int, default=30)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def fit_scores(estimates, measured) -> dict:
    from mmofa.models.task_modules import latency_table_fit
    fit = latency_table_fit(estimates, measured)
    return dict(mape=fit['mape'], tau=fit['kendall_tau'])


def corrected_scores(estimates, measured) -> dict:
    """``a * table + b`` fitted on the first half, scored on the rest."""
    half = len(estimates) // 2
    a, b = np.polyfit(estimates[:half], measured[:half], 1)
    return fit_scores(a * estimates[half:] + b, measured[half:])


def measure_runtime(name: str, args) -> dict:
    import torch

    from mmofa.apis import init_model
    from mmofa.models.task_modules import (SlotCostTable, build_latency_table,
                                           build_runtime)
    from mmofa.models.task_modules.estimators.runtimes import LogitsOf
    torch.set_num_threads(args.threads)
    runtime = build_runtime(
        name, threads=args.threads, warmup=3, repeats=args.repeats)
    model = init_model(args.config)
    start = time.perf_counter()
    table = build_latency_table(
        model, args.resolutions, batch_size=args.batch_size, runtime=runtime)
    build_s = time.perf_counter() - start
    codec = model.backbone.population_codec(args.resolutions)
    lookup = SlotCostTable(codec, np.asarray(table['fixed']),
                           np.asarray(table['entries']), 'latency')
    population = codec.random(args.subnets, np.random.default_rng(args.seed))
    estimates = np.asarray(lookup(population), dtype=float)
    measured = []
    for subnet in codec.to_subnets(population):
        model.set_subnet(subnet)
        size = subnet.resolution
        inputs = torch.randn(args.batch_size, 3, size, size)
        measured.append(
            runtime.time(LogitsOf(model.export_subnet()), inputs)[0])
    measured = np.asarray(measured)
    return dict(
        runtime=table['runtime']['version'],
        build_s=build_s,
        mean_ms=float(measured.mean()),
        raw=fit_scores(estimates, measured),
        corrected=corrected_scores(estimates, measured),
        spread=table['spread']['median'])


def main():
    args = parse_args()
    sys.path.insert(0, str(REPO))
    rows = [measure_runtime(name, args) for name in args.runtimes]
    print(f'\n{args.subnets} random subnets of {Path(args.config).name} at '
          f'{args.resolutions} px, batch {args.batch_size}, {args.threads} '
          'thread(s)')
    header = (f'{"runtime":<44} {"table s":>8} {"mean ms":>8} '
              f'{"MAPE %":>7} {"tau":>6} {"MAPE % (fit)":>13} '
              f'{"tau (fit)":>10} {"spread":>7}')
    print(header)
    print('-' * len(header))
    for row in rows:
        print(f'{row["runtime"]:<44} {row["build_s"]:>8.0f} '
              f'{row["mean_ms"]:>8.2f} {row["raw"]["mape"]:>7.1f} '
              f'{row["raw"]["tau"]:>6.3f} {row["corrected"]["mape"]:>13.1f} '
              f'{row["corrected"]["tau"]:>10.3f} {row["spread"]:>7.3f}')
    print('(fit: a * table + b fitted on the first half of the subnets, '
          'scored on the second; spread: median IQR / median of the parts)')


if __name__ == '__main__':
    main()
