"""How well latency tables predict end-to-end latency, per runtime.

    python benchmarks/bench_latency_runtimes.py           # torch, onnxruntime
    python benchmarks/bench_latency_runtimes.py --runtimes onnxruntime \
        --config configs/ofa/ofa_mbv3_w10_supernet.py --subnets 40

For each runtime, builds the latency table of the supernet as
tools/analysis/build_latency_table.py does: every part timed interleaved,
the per-call overhead counted once, and ``--calibrate`` random subnets
exported and timed end to end in the same rounds, to fit the table's
correction. Reports the raw table (block sums) against those subnets
("same rounds": no drift of the machine between estimate and
measurement), then times ``--subnets`` other random subnets end to end
afterwards, as a user's check does, and reports the raw and the corrected
table against them: mean absolute percentage error and Kendall tau. One
thread, batch 1 by default; ``--rounds`` repeats the whole measurement to
show how much the figures move.
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
    parser.add_argument('--calibrate', type=int, default=30)
    parser.add_argument(
        '--device', default='cpu', choices=['cpu', 'cuda'],
        help='cuda: torch on the GPU, ONNX Runtime with the CUDA provider, '
        'TensorRT')
    parser.add_argument(
        '--threads', type=int, default=1, help='CPU threads (0: default)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=30)
    parser.add_argument('--rounds', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def measure_runtime(name: str, args) -> dict:
    import torch

    from mmofa.apis import init_model
    from mmofa.models.task_modules import (build_latency_table, build_runtime,
                                           latency_table_fit, table_costs,
                                           time_subnets)
    if args.threads:
        torch.set_num_threads(args.threads)
    runtime = build_runtime(
        name,
        device=args.device,
        threads=args.threads or None,
        warmup=3,
        repeats=args.repeats)
    model = init_model(args.config)
    start = time.perf_counter()
    table = build_latency_table(
        model,
        args.resolutions,
        batch_size=args.batch_size,
        device=args.device,
        runtime=runtime,
        calibrate=args.calibrate,
        seed=args.seed + 1)
    build_s = time.perf_counter() - start
    codec = model.backbone.population_codec(args.resolutions)
    population = codec.random(args.subnets, np.random.default_rng(args.seed))
    measured = time_subnets(model, runtime, codec.to_subnets(population),
                            args.batch_size)
    raw, corrected = (
        latency_table_fit(table_costs(table, codec, fold)(population),
                          measured) for fold in (False, True))
    return dict(
        runtime=table['runtime']['version'],
        build_s=build_s,
        mean_ms=float(measured.mean()),
        raw=raw,
        corrected=corrected,
        correction=table['correction'],
        spread=table['spread']['median'])


def main():
    args = parse_args()
    sys.path.insert(0, str(REPO))
    rows = [
        measure_runtime(name, args) for _ in range(args.rounds)
        for name in args.runtimes
    ]
    print(f'\n{args.subnets} random subnets of {Path(args.config).name} at '
          f'{args.resolutions} px, batch {args.batch_size}, {args.threads} '
          f'thread(s); correction fitted on {args.calibrate} others')
    header = (f'{"runtime":<44} {"table s":>8} {"mean ms":>8} '
              f'{"same rounds":>13} {"raw, after":>13} '
              f'{"corrected":>13} {"scale":>6} {"offset":>7} {"spread":>7}')
    print(header)
    print('-' * len(header))

    def scores(fit):
        return f'{fit["mape"]:>5.1f} / {fit["kendall_tau"]:.3f}'

    for row in rows:
        correction = row['correction']
        print(f'{row["runtime"]:<44} {row["build_s"]:>8.0f} '
              f'{row["mean_ms"]:>8.2f} '
              f'{scores(correction["fit_before"]):>13} '
              f'{scores(row["raw"]):>13} {scores(row["corrected"]):>13} '
              f'{correction["scale"]:>6.3f} {correction["offset"]:>7.3f} '
              f'{row["spread"]:>7.3f}')
    print('(MAPE % / Kendall tau. same rounds: the raw table against the '
          'calibration subnets, timed with its parts; raw, after / '
          'corrected: the table without and with its correction, scale * '
          'table + offset, against the other subnets timed afterwards; '
          'spread: median IQR / median of the parts)')


if __name__ == '__main__':
    main()
