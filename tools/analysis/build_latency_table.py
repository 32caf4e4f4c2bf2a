"""Measure a latency lookup table of a supernet on this machine.

Times every part of the supernet's space at each resolution (batch 1 by
default) in the runtime you deploy with: what no choice changes, and each
block of each combination of its choices (a MobileNetV3 block per kernel
size and expand ratio, a ResNet block per input, middle and output width);
writes the table as JSON for ``EvolutionSearchLoop(latency_table=...)``,
recording the runtime, its version, the device, threads and batch size,
and checks it: for ``--check`` random subnets it compares the table's
estimate with the measured end-to-end latency of the exported static
model in the same runtime.

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
                                       load_latency_table, save_latency_table)
from mmofa.models.task_modules.estimators.runtimes import LogitsOf
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
        '--check',
        type=int,
        default=10,
        help='random subnets to compare with end-to-end timings (0: none)')
    parser.add_argument(
        '--warmup', type=int, default=3, help='untimed runs per entry')
    parser.add_argument(
        '--repeats',
        type=int,
        default=20,
        help='timed runs per entry (the median is kept)')
    parser.add_argument(
        '--threads',
        type=int,
        help="CPU threads of the runtime (torch's, or ONNX Runtime's "
        'intra-op threads; default: its own)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def check_table(model, path, runtime, resolutions, num, batch_size,
                seed) -> dict:
    """Estimated vs measured latency of ``num`` exported random subnets in
    ``runtime``; returns :func:`latency_table_fit` of them."""
    codec = model.backbone.population_codec(resolutions)
    table = load_latency_table(path, model, codec, runtime.name, batch_size)
    population = codec.random(num, np.random.default_rng(seed))
    estimates = table(population)
    print(f'{"subnet":<8} {"res":>4} {"table ms":>9} {"measured ms":>12} '
          f'{"ratio":>6}')
    measured = []
    for i, subnet in enumerate(codec.to_subnets(population)):
        model.set_subnet(subnet)
        size = subnet.resolution
        inputs = torch.randn(batch_size, 3, size, size)
        measured.append(
            runtime.time(LogitsOf(model.export_subnet()), inputs)[0])
        print(f'random{i:<2} {size:>4} {estimates[i]:>9.3f} '
              f'{measured[-1]:>12.3f} {estimates[i] / measured[-1]:>6.2f}')
    fit = latency_table_fit(estimates, measured)
    print(f'table / measured: median {fit["median_ratio"]:.3f}, range '
          f'[{fit["min_ratio"]:.3f}, {fit["max_ratio"]:.3f}]; mean absolute '
          f'percentage error {fit["mape"]:.1f} %; Kendall tau '
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
        path = measure_table(model, runtime, args)
    if args.check:
        try:
            fit = check_table(model, path, runtime, args.resolutions,
                              args.check, args.batch_size, args.seed)
        except ValueError as error:  # a table of another runtime or batch
            sys.exit(f'error: {error}')
        if not fit['predicts']:
            print(
                f'WARNING: this table does not predict the measured '
                f'latency ({fit["why"]}). Its entries are too noisy: '
                'measure again with more repeats (--repeats), fewer '
                'threads (--threads 1) or on an idle machine.',
                file=sys.stderr)
            sys.exit(EXIT_TABLE_UNFIT)


def measure_table(model, runtime, args) -> Path:
    """Measure and write the table; its path."""
    bar = None

    def progress(done, total):
        nonlocal bar
        if bar is None:
            bar = ProgressBar(total, file=sys.stdout)
        bar.update()

    table = build_latency_table(
        model,
        args.resolutions,
        batch_size=args.batch_size,
        device=args.device,
        progress=progress,
        runtime=runtime)
    path = save_latency_table(table, args.out)
    measured_in = table['runtime']
    print(f'\nlatency table of {len(args.resolutions)} resolutions written '
          f'to {Path(path)}: {measured_in["version"]} on '
          f'{measured_in["device"]}, {measured_in["threads"]} threads, batch '
          f'{args.batch_size}; spread (IQR / median) of the parts: median '
          f'{table["spread"]["median"]:.3f}, max {table["spread"]["max"]:.3f}')
    return Path(path)


if __name__ == '__main__':
    main()
