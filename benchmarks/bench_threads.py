"""Torch CPU threads per process, idle and on a busy machine.

    python benchmarks/bench_threads.py                # 1..cores threads
    python benchmarks/bench_threads.py --threads 1 2 --load 0 2

Times a training step of the max subnet of the OFA MobileNetV3 w1.0
supernet (batch 16 at 160 px by default, forward, backward, SGD step) with
each thread count, first on an idle machine, then with ``--load`` busy
processes started by the benchmark itself competing for the cores. The
counts are interleaved (one step each in turn), so slow drifts hit all
alike. Prints the median step time and its ratio to the fastest count of
the same load: the thread policy of the tools (``--threads``,
``env_cfg.num_threads``, docs/training.md) follows from it.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))


def build_step(batch: int, size: int):
    import torch

    from mmofa.apis import init_model
    from mmofa.utils import retain_freed_memory
    retain_freed_memory()
    torch.manual_seed(0)
    model = init_model(
        str(REPO / 'configs/ofa/ofa_mbv3_w10_supernet.py'),
        cfg_options={'model.channels_last': True})
    model.sample_subnet('max')
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.randn(batch, 3, size,
                         size).contiguous(memory_format=torch.channels_last)

    def step():
        loss = model(images, mode='tensor').logsumexp(1).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    return step


def measure(step, threads, repeat: int, warmup: int) -> dict:
    import torch
    times = {t: [] for t in threads}
    for _ in range(warmup):
        for t in threads:
            torch.set_num_threads(t)
            step()
    for _ in range(repeat):
        for t in threads:
            torch.set_num_threads(t)
            start = time.perf_counter()
            step()
            times[t].append(time.perf_counter() - start)
    return {t: statistics.median(v) for t, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cores = len(os.sched_getaffinity(0))
    parser.add_argument(
        '--threads', type=int, nargs='+', default=list(range(1, cores + 1)))
    parser.add_argument(
        '--load',
        type=int,
        nargs='+',
        default=[0, cores],
        help='busy processes competing (default: none, '
        'then one per core)')
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--size', type=int, default=160)
    parser.add_argument('--repeat', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    args = parser.parse_args()
    import torch
    from machine_load import busy_processes
    print(f'threads benchmark: {cores} cores, torch {torch.__version__}, '
          f'max subnet training step, batch {args.batch} at {args.size} px, '
          f'{args.repeat} interleaved steps per count')
    step = build_step(args.batch, args.size)
    header = f'{"busy processes":>14} {"threads":>7} {"step ms":>9} ' \
        f'{"vs fastest":>10}'
    print(header + '\n' + '-' * len(header))
    for load in args.load:
        with busy_processes(load):
            result = measure(step, args.threads, args.repeat, args.warmup)
        fastest = min(result.values())
        for t in args.threads:
            print(f'{load:>14} {t:>7} {result[t] * 1e3:>9.1f} '
                  f'{result[t] / fastest:>10.2f}')


if __name__ == '__main__':
    main()
