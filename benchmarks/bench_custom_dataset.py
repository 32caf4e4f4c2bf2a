"""Once-for-All on a real small dataset: the recipes of configs/custom/
against the same subnets trained from scratch.

    pip install scikit-learn
    python benchmarks/bench_custom_dataset.py --work-dir work_dirs/bench_digits

The dataset is scikit-learn's handwritten digits (1797 grayscale 8x8
images, 10 classes, bundled with the package), written as an image folder
of 32 px images by tools/dataset_converters/sklearn_digits.py (1347
training, 450 validation images); mean and std come from
tools/analysis/dataset_stats.py. The supernet has the demo's widths (OFA
MobileNetV3 space: kernel 3/5/7, expand 3/4/6, depth 2/3/4, channels-last),
32 px, batch 128, no flips. Per seed:

- ``ps``: configs/custom/ofa_mbv3_ps.py (31 epochs);
- ``rss``: configs/custom/ofa_mbv3_rss.py (31 epochs);
- ``transfer``: configs/custom/ofa_mbv3_transfer.py (20 epochs) from a
  supernet trained on other data: the demo's (configs/demo/, synthetic
  shapes), trained once by this script or given with ``--source``;
- ``scratch``: each subnet alone, as a static model from the supernet's
  initialisation, 31 epochs of one cosine schedule (lr 0.1, the PS
  teacher's), the same data, sizes and augmentation.

Every subnet (max, min and one fixed random one) is scored by top-1 at
32 px after BN recalibration on 1000 training images. Prints per subnet
the mean and spread (min-max) over seeds and each way's gap to scratch;
writes everything to WORK_DIR/results.json (a rerun skips what is there).
About 15 minutes per seed on 2 CPU cores (the demo source: 7 more).
"""
import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WAYS = dict(
    ps='ofa_mbv3_ps.py',
    rss='ofa_mbv3_rss.py',
    transfer='ofa_mbv3_transfer.py')
# The demo's widths, channels-last (as the demo: faster on CPU).
NARROW = {
    'model.architecture.backbone.base_widths':
    [8, 8, 16, 16, 24, 32, 40, 128, 256],
    'model.architecture.head.in_channels': 256,
    'model.channels_last': True
}
SIZE = 32
SCRATCH = """_base_ = [
    '../_base_/models/ofa_mbv3_w10.py', './my_dataset.py',
    '../_base_/default_runtime.py'
]
model = dict(
    resolutions={{_base_.resolutions}},
    architecture=dict(
        data_preprocessor={{_base_.preprocessor}},
        head=dict(num_classes={{_base_.num_classes}}, topk=(1, ))))
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=3e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = dict(
    type='mmofa.StagedCosineLR', stages=[dict(length=31)],
    convert_to_iter_based=True)
train_cfg = dict(by_epoch=True, max_epochs=31, val_interval=31)
default_hooks = dict(checkpoint=dict(interval=31, max_keep_ckpts=1))
"""


def options(mapping: dict) -> list:
    return [f'{k}={v}'.replace(' ', '') for k, v in mapping.items()]


def run(*args, log: Path):
    """Run a repository tool; its output goes to ``log``."""
    command = [sys.executable, *map(str, args)]
    print('  $', ' '.join(command[1:3]), '...', flush=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, 'w') as file:
        done = subprocess.run(
            command, cwd=REPO, stdout=file, stderr=subprocess.STDOUT)
    if done.returncode:
        sys.exit(f'failed ({done.returncode}): see {log}')


def prepare(work: Path) -> Path:
    """The digits folder and the user's copy of configs/ for it, filled in
    as docs/custom_dataset.md says."""
    from mmofa.utils.config import update_config_file
    data = work / 'digits'
    if not (data / 'train').is_dir():
        run('tools/dataset_converters/sklearn_digits.py',
            data,
            '--size',
            32,
            log=work / 'digits.log')
    configs = work / 'configs'
    shutil.rmtree(configs, ignore_errors=True)
    shutil.copytree(REPO / 'configs', configs)
    custom = configs / 'custom'
    run('tools/analysis/dataset_stats.py',
        data / 'train',
        '--update-config',
        custom / 'my_dataset.py',
        log=work / 'stats.log')
    update_config_file(
        custom / 'my_dataset.py',
        dict(
            resolutions=[SIZE],
            flip_prob=0.0,
            batch_size=128,
            calibrate_bn=dict(num_images=1000, batch_size=128)))
    (custom / 'scratch.py').write_text(SCRATCH)
    return custom


def demo_source(work: Path) -> Path:
    """A supernet trained on the demo data, the transfer's start."""
    out = work / 'demo_source'
    checkpoint = out / 'epoch_31.pth'
    if checkpoint.is_file():
        return checkpoint
    data = work / 'demo_data'
    if not (data / 'train').is_dir():
        run('tools/dataset_converters/make_demo_dataset.py',
            data,
            log=work / 'demo_data.log')
    run('tools/train.py',
        REPO / 'configs/demo/ofa_mbv3_demo_ps.py',
        '--work-dir',
        out,
        '--cfg-options',
        *options({
            f'{split}_dataloader.dataset.data_root': str(data.resolve())
            for split in ('train', 'val', 'test')
        }),
        log=work / 'demo_source.log')
    return checkpoint


def fixed_subnets(custom: Path, work: Path) -> list:
    """Subnet files: max, min and two random ones of fixed seeds."""
    from mmofa.apis import init_model
    from mmofa.structures import write_subnet_file
    model = init_model(custom / 'ofa_mbv3_ps.py', cfg_options=NARROW)
    files = []
    for name, draw in (('max', 'max'), ('min', 'min'), ('random', 11)):
        if isinstance(draw, str):
            model.sample_subnet(draw)
        else:
            model.sample_subnet('random', draw)
        path = work / 'subnets' / f'{name}.yaml'
        path.parent.mkdir(parents=True, exist_ok=True)
        write_subnet_file(
            model.dump_subnet(model.current_subnet().with_resolution(None)),
            path)
        files.append(path)
    return files


def top1(metrics_file: Path) -> dict:
    """``{name: top-1}`` from what tools/test.py --out wrote."""
    data = json.loads(metrics_file.read_text())['subnets']
    return {
        re.sub(r'_R\d+$', '', name): entry['metrics']['accuracy/top1']
        for name, entry in data.items()
    }


def test_supernet(custom, config, checkpoint, subnets, out: Path) -> dict:
    run('tools/test.py',
        custom / config,
        checkpoint,
        '--work-dir',
        out,
        '--out',
        out / 'metrics.json',
        '--cfg-options',
        *options(NARROW),
        f'test_cfg.subnets=[{",".join(str(s) for s in subnets)}]',
        f'test_cfg.resolutions=[{SIZE}]',
        log=out.with_suffix('.test.log'))
    return top1(out / 'metrics.json')


def train_scratch(custom: Path, subnet: Path, seed: int, out: Path) -> float:
    """One subnet alone from the supernet's initialisation."""
    import torch

    from mmofa.apis import init_model, save_subnet
    torch.manual_seed(seed)
    model = init_model(custom / 'scratch.py', cfg_options=NARROW)
    model.set_subnet(subnet)
    paths = save_subnet(model, out / 'init.pth')
    run('tools/train.py',
        paths['config'],
        '--work-dir',
        out,
        '--cfg-options',
        f'load_from={paths["checkpoint"]}',
        f'randomness.seed={seed}',
        log=out.with_suffix('.train.log'))
    run('tools/test.py',
        paths['config'],
        out / 'epoch_31.pth',
        '--work-dir',
        out,
        '--out',
        out / 'metrics.json',
        '--cfg-options',
        f'test_cfg.resolutions=[{SIZE}]',
        log=out.with_suffix('.test.log'))
    return next(iter(top1(out / 'metrics.json').values()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/bench_digits')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument(
        '--ways',
        nargs='+',
        default=[*WAYS, 'scratch'],
        choices=[*WAYS, 'scratch'])
    parser.add_argument(
        '--source', help='supernet checkpoint for transfer (demo widths)')
    args = parser.parse_args()
    work = Path(args.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    custom = prepare(work)
    subnets = fixed_subnets(custom, work)
    names = [s.stem for s in subnets]
    results_file = work / 'results.json'
    results = json.loads(results_file.read_text()) if \
        results_file.is_file() else {}
    for seed in args.seeds:
        for way in args.ways:
            key = f'{way}/seed{seed}'
            if key in results:
                continue
            print(f'{key}:', flush=True)
            out = work / way / f'seed{seed}'
            if way == 'scratch':
                results[key] = {
                    s.stem: train_scratch(custom, s, seed, out / s.stem)
                    for s in subnets
                }
            else:
                extra = [
                    f'randomness.seed={seed}', f'model.sampling_seed={seed}'
                ]
                if way == 'transfer':
                    source = args.source or demo_source(work)
                    extra.append(f'load_from={source}')
                run('tools/train.py',
                    custom / WAYS[way],
                    '--work-dir',
                    out,
                    '--cfg-options',
                    *options(NARROW),
                    *extra,
                    log=out.with_suffix('.train.log'))
                epochs = 20 if way == 'transfer' else 31
                results[key] = test_supernet(custom, WAYS[way],
                                             out / f'epoch_{epochs}.pth',
                                             subnets, out / 'test')
            results_file.write_text(json.dumps(results, indent=2))
    report(results, names, args.seeds)


def report(results: dict, names: list, seeds: list) -> None:
    ways = sorted({k.split('/')[0]
                   for k in results},
                  key=lambda w: [*WAYS, 'scratch'].index(w))
    print(f'\ntop-1 % at {SIZE} px after BN recalibration, mean over seeds '
          f'{seeds} [min-max]; (gap to scratch)')
    header = f'{"subnet":<10}' + ''.join(f'{w:>26}' for w in ways)
    print(header)
    print('-' * len(header))
    for name in names:
        scratch = [
            results[f'scratch/seed{s}'][name] for s in seeds
            if f'scratch/seed{s}' in results
        ]
        cells = []
        for way in ways:
            values = [
                results[f'{way}/seed{s}'][name] for s in seeds
                if f'{way}/seed{s}' in results
            ]
            mean = statistics.mean(values)
            cell = f'{mean:.1f} [{min(values):.1f}-{max(values):.1f}]'
            if way != 'scratch' and scratch:
                cell += f' ({mean - statistics.mean(scratch):+.1f})'
            cells.append(f'{cell:>26}')
        print(f'{name:<10}' + ''.join(cells))


if __name__ == '__main__':
    main()
