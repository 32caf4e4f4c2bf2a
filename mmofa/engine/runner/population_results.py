"""Results of a subnet population: shard files, merging, output files and
the rank correlation with reference accuracies."""
import csv
import io
import json
import math
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from mmofa.utils.checkpoint import atomic_write

SHARD_DIR = 'shards'
CSV_FIELDS = ('name', 'resolution', 'flops', 'params', 'score', 'target',
              'reference', 'arch')


def parse_shard(shard, source: str = 'shard') -> Tuple[int, int]:
    """``(index, count)`` from ``'i/n'`` or a pair, ``0 <= i < n``."""
    pair = shard
    if isinstance(shard, str):
        pair = shard.split('/')
    try:
        index, count = (int(v) for v in pair)
    except (TypeError, ValueError):
        raise ValueError(f'{source} = {shard!r}: expected "i/n" (shard i of '
                         'n, counting from 0), e.g. "0/4"') from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f'{source} = {shard!r}: needs n >= 1 and '
                         f'0 <= i < n (shards 0/{count} to '
                         f'{max(count, 1) - 1}/{count})')
    return index, count


def shard_path(directory: Path, index: int, count: int) -> Path:
    """Where shard ``index`` of ``count`` keeps its results."""
    return Path(directory) / SHARD_DIR / f'shard_{index}_of_{count}.json'


def shard_indices(total: int, index: int, count: int) -> range:
    """The population indices of shard ``index``: every ``count``-th."""
    return range(index, total, count)


def merge_shards(directory: Path) -> Tuple[dict, List[dict]]:
    """The settings and records of all shard files in
    ``directory/shards``, records in population order.

    Raises an error naming the shards that are missing or unfinished, or
    the files that were run with other settings.
    """
    files = sorted((Path(directory) / SHARD_DIR).glob('shard_*_of_*.json'))
    if not files:
        raise FileNotFoundError(
            f'no shard files in {Path(directory) / SHARD_DIR}: run '
            'tools/analysis/eval_population.py (with --shard i/n) first')
    shards = {}
    for path in files:
        data = json.loads(path.read_text())
        shards[path] = (data['settings'], data['records'])
    counts = {s['shard'][1] for s, _ in shards.values()}
    if len(counts) > 1:
        raise ValueError(f'{Path(directory) / SHARD_DIR} holds splits into '
                         f'{sorted(counts)} shards; keep the files of one '
                         'split only')
    count = counts.pop()
    first_path, (first, _) = next(iter(shards.items()))
    settings = {k: v for k, v in first.items() if k != 'shard'}
    by_index = {}
    for path, (shard_settings, records) in shards.items():
        other = {k: v for k, v in shard_settings.items() if k != 'shard'}
        if other != settings:
            changed = ', '.join(f'{k}: {settings.get(k)!r} vs {other.get(k)!r}'
                                for k in sorted(set(settings) | set(other))
                                if settings.get(k) != other.get(k))
            raise ValueError(f'{path} and {first_path} were run with other '
                             f'settings ({changed})')
        by_index[shard_settings['shard'][0]] = (path, records)
    missing = [i for i in range(count) if i not in by_index]
    if missing:
        raise ValueError(
            f'shards {", ".join(f"{i}/{count}" for i in missing)} of '
            f'{Path(directory) / SHARD_DIR} are missing: run '
            'eval_population.py with --shard for each, then merge')
    parts = []
    for index in range(count):
        path, records = by_index[index]
        expected = len(shard_indices(settings['total'], index, count))
        if len(records) != expected:
            raise ValueError(f'shard {index}/{count} ({path}) has '
                             f'{len(records)} of its {expected} subnets: '
                             'run it again to finish it, then merge')
        parts.append(records)
    return settings, combine_records(parts, settings['total'])


def combine_records(parts: Sequence[Sequence[dict]], total: int) -> List[dict]:
    """Records of all shards in population order; each index in
    ``range(total)`` exactly once."""
    by_index = {}
    for records in parts:
        for record in records:
            if record['index'] in by_index:
                raise ValueError(f'subnet {record["index"]} '
                                 f'({record["name"]}) appears twice')
            by_index[record['index']] = record
    missing = sorted(set(range(total)) - set(by_index))
    if missing or len(by_index) != total:
        raise ValueError(f'{len(missing)} of {total} subnets have no result '
                         f'(first: {missing[:5]})')
    return [by_index[i] for i in range(total)]


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b rank correlation of ``x`` and ``y`` (ties
    accounted for, as ``scipy.stats.kendalltau``), in O(n log n).

    Returns:
        float: In [-1, 1]; NaN with fewer than 2 values or a constant
        sequence.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f'kendall_tau needs two sequences of one length, '
                         f'got shapes {x.shape} and {y.shape}')
    n = len(x)
    if n < 2:
        return float('nan')
    order = np.lexsort((y, x))  # by x, ties by y
    x, y = x[order], y[order]

    def tied_pairs(*keys) -> int:
        new = np.ones(n, dtype=bool)
        for key in keys:
            new[1:] &= key[1:] == key[:-1]
        starts = np.flatnonzero(np.r_[True, ~new[1:]])
        sizes = np.diff(np.r_[starts, n])
        return int((sizes * (sizes - 1) // 2).sum())

    pairs = n * (n - 1) // 2
    ties_x, ties_xy = tied_pairs(x), tied_pairs(x, y)
    ties_y = tied_pairs(np.sort(y))
    # Discordant pairs: i < j (by x, then y) with y_i > y_j; a Fenwick
    # tree over the ranks of y counts the earlier, larger ones.
    ranks = np.unique(y, return_inverse=True)[1] + 1
    tree = [0] * (int(ranks.max()) + 1)
    discordant = 0
    for seen, rank in enumerate(ranks.tolist()):
        not_larger, i = 0, rank
        while i > 0:
            not_larger += tree[i]
            i -= i & -i
        discordant += seen - not_larger
        i = rank
        while i < len(tree):
            tree[i] += 1
            i += i & -i
    numerator = pairs - ties_x - ties_y + ties_xy - 2 * discordant
    denominator = math.sqrt((pairs - ties_x) * (pairs - ties_y))
    return numerator / denominator if denominator else float('nan')


def summarize(records: List[dict], score_key: str) -> dict:
    """Counts, score range, Kendall tau with the references (if any) and
    the mean score per FLOPs target (buckets)."""
    scores = [r['score'] for r in records]
    summary = dict(
        num_subnets=len(records),
        score_key=score_key,
        mean_score=float(np.mean(scores)) if scores else None,
        min_score=min(scores, default=None),
        max_score=max(scores, default=None))
    referenced = [r for r in records if r.get('reference') is not None]
    if referenced:
        summary['num_references'] = len(referenced)
        tau = kendall_tau([r['score'] for r in referenced],
                          [r['reference'] for r in referenced])
        summary['kendall_tau'] = None if math.isnan(tau) else tau
    targets: Dict[str, list] = {}
    for record in records:
        if record.get('target') is not None:
            targets.setdefault(f'{record["target"]:g}', []).append(record)
    if targets:
        summary['buckets'] = {
            target:
            dict(
                num_subnets=len(members),
                mean_score=float(np.mean([r['score'] for r in members])),
                mean_flops=float(np.mean([r['flops'] for r in members])))
            for target, members in targets.items()
        }
    return summary


def _write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda file: file.write(text.encode()))


def write_population(directory: Path, settings: dict,
                     records: List[dict]) -> dict:
    """Write the merged results to ``directory``:

    - ``population.json``: ``{name: {"arch": ..., "acc": score}}`` in
      population order (the CVPR 2022 NAS track's submission format);
    - ``results.json``: settings, summary and every record (resolution,
      MFLOPs, M params, all metrics);
    - ``population.csv``: one row per subnet;
    - ``population.png``: score against MFLOPs (and against the reference
      accuracies, if given).

    Returns:
        dict: The summary (see :func:`summarize`).
    """
    directory = Path(directory)
    summary = summarize(records, settings['score_key'])
    submission = {
        r['name']: dict(arch=r['arch'], acc=r['score'])
        for r in records
    }
    _write_text(directory / 'population.json', json.dumps(submission))
    _write_text(
        directory / 'results.json',
        json.dumps(
            dict(settings=settings, summary=summary, subnets=records),
            indent=1))
    rows = [[
        r['name'], r['resolution'], r['flops'], r['params'], r['score'],
        r.get('target', ''),
        r.get('reference', ''),
        r['arch'] if isinstance(r['arch'], str) else json.dumps(r['arch'])
    ] for r in records]

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(CSV_FIELDS)
    writer.writerows(rows)
    _write_text(directory / 'population.csv', text.getvalue())
    plot_population(records, summary, directory / 'population.png')
    return summary


def plot_population(records: List[dict], summary: dict, path: Path) -> None:
    """Score against MFLOPs (buckets coloured by target); a second panel
    of score against the reference accuracy when there is one."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    referenced = [r for r in records if r.get('reference') is not None]
    panels = 2 if referenced else 1
    figure, axes = plt.subplots(
        1, panels, figsize=(6 * panels, 4.5), squeeze=False)
    axes = axes[0]
    groups: Dict[str, list] = {}
    for record in records:
        target = record.get('target')
        label = 'subnets' if target is None else f'{target:g} MFLOPs'
        groups.setdefault(label, []).append(record)
    for label, members in groups.items():
        axes[0].scatter([r['flops'] for r in members],
                        [r['score'] for r in members],
                        s=8,
                        alpha=0.6,
                        label=label)
    axes[0].set_xlabel('MFLOPs (multiply-accumulates)')
    axes[0].set_ylabel(summary['score_key'])
    axes[0].set_title(f'{len(records)} subnets')
    axes[0].grid(alpha=0.3)
    if len(groups) > 1:
        axes[0].legend(fontsize='small')
    if referenced:
        axes[1].scatter([r['reference'] for r in referenced],
                        [r['score'] for r in referenced],
                        s=8,
                        alpha=0.6)
        axes[1].set_xlabel('reference accuracy')
        axes[1].set_ylabel(summary['score_key'])
        tau = summary.get('kendall_tau')
        axes[1].set_title('Kendall tau ' +
                          ('undefined' if tau is None else f'{tau:.4f}'))
        axes[1].grid(alpha=0.3)
    figure.tight_layout()

    def save(file):
        figure.savefig(file, dpi=120, format='png')

    try:
        atomic_write(path, save)
    finally:
        plt.close(figure)
