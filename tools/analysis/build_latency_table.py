"""Measure a latency lookup table of a supernet on this machine.

Times the stem, the tail and every elastic block with every (kernel size,
expand ratio) at each resolution (batch 1 by default), writes the table
as JSON for ``EvolutionSearchLoop(latency_table=...)``, and checks it:
for ``--check`` random subnets it compares the table's estimate with the
measured end-to-end latency of the exported static model.

    python tools/analysis/build_latency_table.py \
        configs/ofa/ofa_mbv3_w10_supernet.py --out work_dirs/latency_cpu.json
"""
import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
from mmengine.utils import ProgressBar

from mmofa.apis import init_model
from mmofa.models.task_modules import (build_latency_table, load_latency_table,
                                       save_latency_table, time_forward)
from mmofa.structures import MobileNetV3PopulationCodec


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='supernet config file')
    parser.add_argument('--out', required=True, help='table to write (JSON)')
    parser.add_argument(
        '--resolutions',
        type=int,
        nargs='+',
        default=list(range(128, 225, 4)),
        help='input sizes (default: 128..224 step 4)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--check',
        type=int,
        default=10,
        help='random subnets to compare with end-to-end timings (0: none)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def check_table(model, path, resolutions, num, batch_size, device, seed):
    """Estimated vs measured latency of ``num`` exported random subnets."""
    codec = MobileNetV3PopulationCodec(model.search_space, resolutions)
    table = load_latency_table(path, codec)
    population = codec.random(num, np.random.default_rng(seed))
    estimates = table(population)
    print(f'{"subnet":<8} {"res":>4} {"table ms":>9} {"measured ms":>12} '
          f'{"ratio":>6}')
    ratios = []
    for i, subnet in enumerate(codec.to_subnets(population)):
        model.set_subnet(subnet)
        static = model.export_subnet().to(device).eval()
        size = subnet.resolution
        inputs = torch.randn(batch_size, 3, size, size, device=device)
        measured = time_forward(lambda x: static(x, mode='tensor'), inputs)
        ratios.append(estimates[i] / measured)
        print(f'random{i:<2} {size:>4} {estimates[i]:>9.3f} '
              f'{measured:>12.3f} {ratios[-1]:>6.2f}')
    measured_order = np.argsort(
        np.argsort([e / r for e, r in zip(estimates, ratios)]))
    table_order = np.argsort(np.argsort(estimates))
    rank_corr = np.corrcoef(measured_order, table_order)[0, 1]
    print(f'table / measured: median {statistics.median(ratios):.3f}, '
          f'range [{min(ratios):.3f}, {max(ratios):.3f}]; rank correlation '
          f'{rank_corr:.3f}')


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    model = init_model(args.config, device=args.device)
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
        progress=progress)
    path = save_latency_table(table, args.out)
    print(f'\nlatency table of {len(args.resolutions)} resolutions written '
          f'to {Path(path)} ({table["machine"]})')
    if args.check:
        check_table(model, path, args.resolutions, args.check, args.batch_size,
                    args.device, args.seed)


if __name__ == '__main__':
    main()
