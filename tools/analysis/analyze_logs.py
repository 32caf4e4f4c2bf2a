"""Plot the training curves of an mmofa run, per subnet and per stage.

Reads every run in a work dir (``<work_dir>/<timestamp>/vis_data/*.json``,
a resumed run overriding the iterations it repeats) or the given JSON
logs, and the stage boundaries from the text logs beside them. Draws, one
panel each: the training losses (every subnet's terms, e.g.
``subnet0/loss_cls``, ``subnet1/loss_kd``; a key logged only in some
stages is drawn where it exists), the learning rate, and the validation
metrics of each evaluated subnet; stage starts are marked and named.

    python tools/analysis/analyze_logs.py plot_curve work_dirs/demo_ps \
        --out work_dirs/demo_ps/curves.png
    python tools/analysis/analyze_logs.py plot_curve RUN.json \
        --keys loss subnet0/loss_kd --out loss.png
    python tools/analysis/analyze_logs.py cal_train_time work_dirs/demo_ps
"""
import argparse
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Tuple

from mmofa.utils.paths import check_writable_file

STAGE_LINE = re.compile(r"progressive shrinking: stage '([^']+)' \((started|"
                        r"resumed)\).*?from epoch (\d+), iteration (\d+)")
NOT_CURVES = {'epoch', 'iter', 'step', 'data_time', 'time', 'memory'}


def find_logs(paths: List[str]) -> List[Path]:
    """The JSON logs of the given work dirs and files, oldest first."""
    logs = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(path.glob('*/vis_data/*.json')) + sorted(
                path.glob('vis_data/*.json'))
            found = [p for p in found if p.name != 'scalars.json']
            if not found:
                raise FileNotFoundError(
                    f'{path}: no MMEngine JSON logs (<timestamp>/vis_data/'
                    '<timestamp>.json) in this folder')
            logs += found
        elif path.is_file():
            logs.append(path)
        else:
            raise FileNotFoundError(f'{path} does not exist')
    return logs


def read_logs(logs: List[Path]) -> Tuple[Dict[int, dict], Dict[int, dict]]:
    """Training records by iteration and validation records by step, a
    later log overriding an earlier one (a resumed run)."""
    train, val = {}, {}
    for log in logs:
        for number, line in enumerate(log.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise ValueError(f'{log}:{number}: not a JSON line: '
                                 f'{line[:80]!r}') from None
            if 'iter' in record and 'lr' in record:
                train[record['iter']] = record
            elif 'step' in record:
                val[record['step']] = record
    return train, val


def read_stages(logs: List[Path]) -> List[Tuple[str, int, int]]:
    """``(name, epoch, iteration)`` of each stage start, from the text logs
    beside the JSON ones (``<timestamp>/<timestamp>.log``)."""
    stages = {}
    for log in logs:
        text_log = log.parent.parent / f'{log.stem}.log'
        if not text_log.is_file():
            continue
        for match in STAGE_LINE.finditer(text_log.read_text()):
            name, _, epoch, iteration = match.groups()
            stages[name] = (name, int(epoch), int(iteration))
    return sorted(stages.values(), key=lambda s: s[2])


def loss_keys(train: Dict[int, dict]) -> List[str]:
    keys = sorted({k for r in train.values() for k in r if 'loss' in k})
    return keys or sorted({k for r in train.values() for k in r} - NOT_CURVES)


def plot_curve(args) -> None:
    logs = find_logs(args.logs)
    train, val = read_logs(logs)
    if not train and not val:
        sys.exit(f'no training or validation records in {logs}')
    stages = read_stages(logs)
    available = sorted({k for r in train.values() for k in r} - NOT_CURVES)
    val_keys = sorted({k for r in val.values() for k in r} - NOT_CURVES)
    keys = args.keys or loss_keys(train)
    unknown = [k for k in keys if k not in available and k not in val_keys]
    if unknown:
        sys.exit(f'keys {unknown} are in none of the records; training keys:'
                 f' {available}; validation keys: {val_keys}')
    train_keys = [k for k in keys if k in available]
    metric_keys = [k for k in keys if k in val_keys
                   ] or ([] if args.keys else val_keys)
    panels = [('loss', train_keys)] if train_keys else []
    if 'lr' in available and not args.keys:
        panels.append(('learning rate', ['lr']))
    if metric_keys:
        panels.append(('validation', metric_keys))

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(
        len(panels), 1, figsize=(10, 3.2 * len(panels)), squeeze=False)
    iters = sorted(train)
    epoch_of = {i: train[i].get('epoch') for i in iters}
    # Validation steps are epochs (or iterations, by_epoch=False): plot at
    # the last iteration of that epoch.
    last_iter_of_epoch = {}
    for i in iters:
        last_iter_of_epoch[epoch_of[i]] = i
    for axis, (title, names) in zip(axes[:, 0], panels):
        for name in names:
            if title == 'validation':
                steps = sorted(s for s in val if name in val[s])
                xs = [last_iter_of_epoch.get(s, s) for s in steps]
                axis.plot(
                    xs, [val[s][name] for s in steps], 'o-', ms=3, label=name)
            else:
                xs = [i for i in iters if name in train[i]]
                axis.plot(xs, [train[i][name] for i in xs], lw=1, label=name)
        for name, epoch, iteration in stages:
            axis.axvline(iteration, color='grey', ls='--', lw=0.8)
            # Above the panel: x in data, y in axes coordinates.
            axis.text(
                iteration,
                1.01,
                f'{name} (epoch {epoch})',
                transform=axis.get_xaxis_transform(),
                va='bottom',
                fontsize=7,
                color='dimgrey')
        axis.set_ylabel(title)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, ncol=min(4, len(names)), loc='best')
    axes[-1, 0].set_xlabel('iteration')
    figure.suptitle(args.title or ', '.join(args.logs), fontsize=10)
    figure.tight_layout()
    figure.savefig(args.out, dpi=120)
    plt.close(figure)
    print(f'wrote {args.out}: {len(iters)} training records, {len(val)} '
          f'validations, {len(stages)} stage starts, keys {keys}')


def cal_train_time(args) -> None:
    train, _ = read_logs(find_logs(args.logs))
    times = [r['time'] for r in train.values() if 'time' in r]
    if not times:
        sys.exit('no iteration times in the logs')
    slowest = max(train.values(), key=lambda r: r.get('time', 0))
    print(
        f'iterations logged: {len(times)}\n'
        f'time per iteration: mean {statistics.mean(times):.4f} s, median '
        f'{statistics.median(times):.4f} s, std {statistics.pstdev(times):.4f}'
        f' s\nslowest: iteration {slowest["iter"]} ({slowest["time"]:.4f} '
        's)')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    curve = commands.add_parser('plot_curve', help='plot training curves')
    curve.add_argument('logs', nargs='+', help='work dirs or JSON logs')
    curve.add_argument(
        '--keys',
        nargs='+',
        help='keys to plot (default: '
        'every loss, the lr and the validation metrics)')
    curve.add_argument('--title')
    curve.add_argument('--out', required=True, help='PNG to write')
    time = commands.add_parser('cal_train_time', help='iteration times')
    time.add_argument('logs', nargs='+', help='work dirs or JSON logs')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.command == 'plot_curve':
        check_writable_file(args.out, '--out')
        plot_curve(args)
    else:
        cal_train_time(args)


if __name__ == '__main__':
    main()
