"""Measure a latency lookup table of a supernet on this machine.

Times every part of the supernet's space at each resolution (batch 1 by
default) in the runtime you deploy with: what no choice changes, and each
block of each combination of its choices (a MobileNetV3 block per kernel
size and expand ratio, a ResNet block per input, middle and output width);
writes the table as JSON for ``EvolutionSearchLoop(latency_table=...)``,
recording the runtime, its version, the device, threads and batch size.
Parts are timed interleaved (each round runs every part once, in turn; the
median over ``--repeats`` rounds is kept), as they run inside a network.

Block sums miss what the runtime does across blocks, so ``--calibrate``
random subnets are exported and timed end to end, and a correction
``scale * table + offset`` fitted on them is stored with the table (the
search applies it). Then ``--check`` other random subnets compare the
table's estimate, raw and corrected, with their end-to-end latency in the
same runtime.

    python tools/analysis/build_latency_table.py \
        configs/ofa/ofa_mbv3_w10_supernet.py --out work_dirs/latency_cpu.json
    python tools/analysis/build_latency_table.py CONFIG --runtime onnxruntime \
        --threads 1 --out work_dirs/latency_ort.json

Runtimes: ``torch`` (eager), ``onnxruntime`` (CPU execution provider, or
CUDA with onnxruntime-gpu and ``--device cuda``) and ``tensorrt`` (ONNX
Runtime's TensorRT execution provider: onnxruntime-gpu with TensorRT, on a
GPU). A runtime, package or device this machine lacks is named before
anything is measured.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from mmengine.utils import ProgressBar

from mmofa.apis import init_model
from mmofa.models.task_modules import (RUNTIMES, build_latency_table,
                                       build_runtime, latency_table_fit,
                                       load_latency_table, save_latency_table,
                                       time_subnets)
from mmofa.utils.paths import check_writable_file
from mmofa.utils.threads import set_num_threads

#: Exit status of a check that finds the table unfit (the table is kept).
EXIT_TABLE_UNFIT = 3


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='supernet config file')
    parser.add_argument('--out', required=True, help='table to write (JSON)')
    parser.add_argument(
        '--existing',
        action='store_true',
        help='check the table already at --out instead of measuring one')
    parser.add_argument(
        '--resolutions',
        type=int,
        nargs='+',
        default=list(range(128, 225, 4)),
        help='input sizes (default: 128..224 step 4)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument(
        '--runtime',
        choices=RUNTIMES,
        default='torch',
        help='where to measure (default torch)')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument(
        '--calibrate',
        type=int,
        default=20,
        help='random subnets timed end to end to fit the correction '
        'stored with the table (0: none)')
    parser.add_argument(
        '--check',
        type=int,
        default=10,
        help='other random subnets to compare with end-to-end timings '
        '(0: none)')
    parser.add_argument(
        '--warmup', type=int, default=3, help='untimed rounds')
    parser.add_argument(
        '--repeats',
        type=int,
        default=30,
        help='timed rounds, each running every part once (the median is '
        'kept)')
    parser.add_argument(
        '--threads',
        type=int,
        help="CPU threads of the runtime (torch's, or ONNX Runtime's "
        'intra-op threads; default: its own)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def check_table(model, path, runtime, resolutions, num, batch_size,
                seed) -> dict:
    """Estimated (raw and corrected) vs measured latency of ``num``
    exported random subnets in ``runtime``; returns
    :func:`latency_table_fit` of the estimate the search uses."""
    codec = model.backbone.population_codec(resolutions)
    raw, table = (
        load_latency_table(path, model, codec, runtime.name, batch_size,
                           corrected) for corrected in (False, True))
    population = codec.random(num, np.random.default_rng(seed))
    subnets = codec.to_subnets(population)
    measured = time_subnets(model, runtime, subnets, batch_size)
    estimates, raw_estimates = table(population), raw(population)
    print(f'{"subnet":<8} {"res":>4} {"raw ms":>8} {"table ms":>9} '
          f'{"measured ms":>12} {"ratio":>6}')
    for i, subnet in enumerate(subnets):
        print(f'random{i:<2} {subnet.resolution:>4} {raw_estimates[i]:>8.3f} '
              f'{estimates[i]:>9.3f} {measured[i]:>12.3f} '
              f'{estimates[i] / measured[i]:>6.2f}')
    for name, values in (('raw table', raw_estimates),
                         ('table', estimates)):
        fit = latency_table_fit(values, measured)
        print(f'{name} / measured: median {fit["median_ratio"]:.3f}, range '
              f'[{fit["min_ratio"]:.3f}, {fit["max_ratio"]:.3f}]; mean '
              f'absolute percentage error {fit["mape"]:.1f} %; Kendall tau '
              f'{fit["kendall_tau"]:.3f}')
    return fit


def main():
    args = parse_args()
    if args.threads is not None:
        set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    try:
        runtime = build_runtime(
            args.runtime,
            device=args.device,
            threads=args.threads,
            warmup=args.warmup,
            repeats=args.repeats)
    except (ImportError, RuntimeError, ValueError) as error:
        sys.exit(f'error: {error}')
    model = init_model(args.config)
    if args.existing:
        path = Path(args.out)
        args.check = args.check or 10
    else:
        check_writable_file(args.out, '--out')
        try:
            path = measure_table(model, runtime, args)
        except ValueError as error:  # e.g. --calibrate 1
            sys.exit(f'error: {error}')
    if args.check:
        try:
            # Subnets of another seed than the calibration's (seed + 1).
            fit = check_table(model, path, runtime, args.resolutions,
                              args.check, args.batch_size, args.seed)
        except ValueError as error:  # a table of another runtime or batch
            sys.exit(f'error: {error}')
        if not fit['predicts']:
            print(
                f'WARNING: this table does not predict the measured '
                f'latency ({fit["why"]}). Its entries are too noisy, or '
                'were measured on another machine or under another load: '
                'measure again with more repeats (--repeats), fewer '
                'threads (--threads 1) or on an idle machine.',
                file=sys.stderr)
            sys.exit(EXIT_TABLE_UNFIT)


def measure_table(model, runtime, args) -> Path:
    """Measure and write the table; its path."""
    bar = None

    def progress(done, total):  # parts and networks timed so far
        nonlocal bar
        if bar is None:
            bar = ProgressBar(total, file=sys.stdout)
        bar.update(done - bar.completed)

    table = build_latency_table(
        model,
        args.resolutions,
        batch_size=args.batch_size,
        device=args.device,
        progress=progress,
        runtime=runtime,
        calibrate=args.calibrate,
        seed=args.seed + 1)
    path = save_latency_table(table, args.out)
    measured_in = table['runtime']
    print(f'\nlatency table of {len(args.resolutions)} resolutions written '
          f'to {Path(path)}: {measured_in["version"]} on '
          f'{measured_in["device"]}, {measured_in["threads"]} threads, batch '
          f'{args.batch_size}; spread (IQR / median) of the parts: median '
          f'{table["spread"]["median"]:.3f}, max {table["spread"]["max"]:.3f}')
    correction = table.get('correction')
    if correction:
        before, after = correction['fit_before'], correction['fit_after']
        print(f'correction {correction["scale"]:.4f} * table + '
              f'{correction["offset"]:.4f} ms, fitted on '
              f'{correction["subnets"]} subnets: mean absolute percentage '
              f'error {before["mape"]:.1f} % -> {after["mape"]:.1f} %, '
              f'Kendall tau {before["kendall_tau"]:.3f}')
    return Path(path)


if __name__ == '__main__':
    main()
