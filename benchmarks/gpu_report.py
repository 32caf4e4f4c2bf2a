"""The GPU benchmarks of tools/gpu_check.sh, as one report (markdown and
JSON). Each part reports pass / fail and its time; a failure does not stop
the rest.

    python benchmarks/gpu_report.py --out work_dirs/gpu_check          # GPU
    python benchmarks/gpu_report.py --device cpu --tiny --out W  # dry run

Parts (each mmofa side and its baseline timed interleaved, as in
benchmarks/bench_ofa.py):

* ps_step: a progressive-shrinking step (expand phase 2: 4 subnets,
  distillation, 128-224 px) of mmofa vs the official ``ofa`` code, images
  per second, fp32 and AMP, NCHW and channels-last, peak memory per side;
* subnet_step / subnet_eval: the supernet with a subnet active vs the
  exported static subnet, training step and eval forward (min, max, random);
* bn_recalibration: recalibrating BN over N images vs one forward pass;
* compile: the exported static subnet eager vs ``torch.compile``d latency;
* latency_tables: a latency table of the w1.0 supernet in each runtime of
  the device (torch, ONNX Runtime, TensorRT: one the machine lacks is
  named, not failed), calibrated, against other subnets timed end to end
  (``benchmarks/bench_latency_runtimes.py``'s measurement, at 224 px and 10
  subnets each here to keep TensorRT's engine builds short; run that
  benchmark with ``--device cuda`` for the full figures).
"""
import argparse
import json
import platform
import sys
import time
import traceback
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def bench_args(args, **changes) -> SimpleNamespace:
    """The options benchmarks/bench_ofa.py's builders read."""
    base = dict(
        device=args.device,
        batch=2 if args.tiny else 64,
        repeat=2 if args.tiny else 10,
        warmup=1 if args.tiny else 3,
        images=16 if args.tiny else 2000,
        amp=False,
        channels_last=False,
        default_malloc=False,
        profile=False)
    base.update(changes)
    return SimpleNamespace(**base)


def peak_memory(device, function) -> float:
    """Peak memory (MiB) of running ``function`` twice (CUDA only)."""
    import torch
    if device != 'cuda':
        return float('nan')
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    function()
    function()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / 2**20


def compare(case: str, base_side: str, cand_side: str, variant, opts):
    """Time both sides of a bench_ofa comparison, interleaved."""
    import bench_ofa
    build = bench_ofa.COMPARISONS[case][2]
    sides = {s: build(opts, s, variant) for s in (base_side, cand_side)}
    timing = bench_ofa.interleaved(sides[base_side], sides[cand_side],
                                   opts.device, opts.repeat, opts.warmup)
    timing['peak_mib'] = {
        s: peak_memory(opts.device, f)
        for s, f in sides.items()
    }
    return timing


def part_ps_step(args):
    rows = []
    for amp in (False, True):
        if amp and args.device != 'cuda':
            continue  # AMP (the optimizer wrapper's) needs a GPU
        for layout in ('contiguous', 'channels_last'):
            opts = bench_args(
                args, amp=amp, channels_last=layout == 'channels_last')
            timing = compare('train_step', 'official', 'mmofa', layout, opts)
            batch = opts.batch
            rows.append(
                dict(
                    amp=amp,
                    layout=layout,
                    official_images_per_s=batch / timing['baseline'],
                    mmofa_images_per_s=batch / timing['candidate'],
                    speedup=timing['baseline'] / timing['candidate'],
                    peak_mib=timing['peak_mib']))
    return rows


def part_subnet(args, train: bool):
    rows = []
    case = 'subnet_train_step' if train else 'eval_forward'
    for subnet in ('min', 'max', 'random'):
        opts = bench_args(args)
        timing = compare(case, 'static', 'supernet', subnet, opts)
        rows.append(
            dict(
                subnet=subnet,
                static_ms=timing['baseline'] * 1e3,
                supernet_ms=timing['candidate'] * 1e3,
                supernet_over_static=timing['ratio'],
                peak_mib=timing['peak_mib']))
    return rows


def part_bn(args):
    opts = bench_args(args, repeat=1 if args.tiny else 3)
    timing = compare('bn_recalibration', 'forward', 'recalibrate', 'random',
                     opts)
    return [
        dict(
            images=opts.images,
            forward_s=timing['baseline'],
            recalibrate_s=timing['candidate'],
            ratio=timing['ratio'])
    ]


def part_compile(args):
    import bench_ofa
    import torch
    opts = bench_args(args)
    model = bench_ofa.mmofa_model(opts)
    bench_ofa.subnet_of('random', model)
    static = model.export_subnet().eval()
    size = 64 if args.tiny else 224
    images = torch.randn(opts.batch, 3, size, size, device=args.device)
    # A quick backend for the CPU dry run; inductor on the GPU.
    backend = 'aot_eager' if args.tiny else 'inductor'
    compiled = torch.compile(static, backend=backend)

    def eager():
        with torch.no_grad():
            static(images, mode='tensor')

    def fast():
        with torch.no_grad():
            compiled(images, mode='tensor')

    start = time.perf_counter()
    fast()  # compiles
    compile_s = time.perf_counter() - start
    timing = bench_ofa.interleaved(eager, fast, args.device, opts.repeat,
                                   opts.warmup)
    return [
        dict(
            backend=backend,
            compile_s=compile_s,
            eager_ms=timing['baseline'] * 1e3,
            compiled_ms=timing['candidate'] * 1e3,
            speedup=timing['baseline'] / timing['candidate'])
    ]


def part_latency_tables(args):
    import bench_latency_runtimes

    from mmofa.models.task_modules import RUNTIMES, build_runtime
    opts = SimpleNamespace(
        config=str(HERE.parent / 'configs/ofa/ofa_mbv3_w10_supernet.py'),
        device=args.device,
        resolutions=[32] if args.tiny else [224],
        subnets=3 if args.tiny else 10,
        calibrate=3 if args.tiny else 10,
        repeats=2 if args.tiny else 30,
        threads=0,
        batch_size=1,
        seed=0)
    rows = []
    for name in RUNTIMES:
        try:
            build_runtime(name, device=args.device)
        except (ImportError, RuntimeError, ValueError) as error:
            rows.append(dict(runtime=name, measured=f'no: {error}'))
            continue
        result = bench_latency_runtimes.measure_runtime(name, opts)
        rows.append(
            dict(
                runtime=result['runtime'],
                measured='yes',
                table_s=result['build_s'],
                mean_ms=result['mean_ms'],
                raw_mape=result['raw']['mape'],
                raw_tau=result['raw']['kendall_tau'],
                corrected_mape=result['corrected']['mape'],
                corrected_tau=result['corrected']['kendall_tau']))
    return rows


PARTS = {
    'ps_step': part_ps_step,
    'subnet_step': lambda a: part_subnet(a, True),
    'subnet_eval': lambda a: part_subnet(a, False),
    'bn_recalibration': part_bn,
    'compile': part_compile,
    'latency_tables': part_latency_tables,
}


def environment(device: str) -> dict:
    import torch
    info = dict(
        python=platform.python_version(),
        torch=str(torch.__version__),
        cuda=torch.version.cuda,
        device=device,
        machine=platform.machine())
    if device == 'cuda':
        info['gpu'] = torch.cuda.get_device_name()
    return info


def markdown(report: dict) -> str:
    lines = ['# mmofa GPU check', '']
    lines += [f'- {k}: {v}' for k, v in report['environment'].items()]
    for name, part in report['parts'].items():
        lines += ['', f'## {name}: {part["status"]} ({part["seconds"]:.1f} s)']
        if part['status'] != 'pass':
            lines.append('```\n' + part['error'][-2000:] + '\n```')
            continue
        rows = part['rows']
        if not rows:
            lines.append('(nothing to measure on this device)')
            continue
        keys = [
            k for k in max(rows, key=len)
            if k != 'peak_mib'
        ]  # rows of what was not measured have fewer
        lines.append('| ' + ' | '.join(keys) + ' | peak MiB |')
        lines.append('|' + ' --- |' * (len(keys) + 1))
        for row in rows:
            cells = [
                f'{row[k]:.3f}' if isinstance(row.get(k), float) else str(
                    row.get(k, '')) for k in keys
            ]
            peak = row.get('peak_mib', '')
            if isinstance(peak, dict):
                peak = ', '.join(f'{s} {v:.0f}' for s, v in peak.items())
            lines.append('| ' + ' | '.join(cells) + f' | {peak} |')
    return '\n'.join(lines) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', required=True, help='report folder')
    parser.add_argument('--device', default='cuda', choices=['cuda', 'cpu'])
    parser.add_argument(
        '--tiny', action='store_true', help='tiny sizes (a dry run)')
    parser.add_argument(
        '--parts', nargs='+', default=list(PARTS), choices=list(PARTS))
    args = parser.parse_args()
    if args.device == 'cuda':
        import torch
        if not torch.cuda.is_available():
            sys.exit('no GPU: run with --device cpu --tiny for a dry run')
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = dict(environment=environment(args.device), parts={})
    for name in args.parts:
        start = time.perf_counter()
        try:
            rows = PARTS[name](args)
            entry = dict(status='pass', rows=rows)
        except Exception:  # each part reports; the rest still runs
            entry = dict(status='fail', rows=[], error=traceback.format_exc())
        entry['seconds'] = time.perf_counter() - start
        report['parts'][name] = entry
        print(
            f'{name}: {entry["status"]} ({entry["seconds"]:.1f} s)',
            flush=True)
        (out / 'report.json').write_text(json.dumps(report, indent=1))
        (out / 'report.md').write_text(markdown(report))
    print(f'report: {out / "report.md"}, {out / "report.json"}')
    failed = [n for n, p in report['parts'].items() if p['status'] != 'pass']
    if failed:
        sys.exit(f'failed parts: {failed}')


if __name__ == '__main__':
    main()
