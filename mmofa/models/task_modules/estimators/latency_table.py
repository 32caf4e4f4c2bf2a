"""Latency lookup tables measured on the machine at hand, for every
supernet family.

Once-for-All prices a subnet's latency as the sum of per-layer latencies
looked up by layer shape. Here the parts are measured where the table is
built: for each resolution, what no choice changes and every cost slot's
part for every combination of its choices (a backbone's
``latency_parts``: a MobileNetV3 block per kernel size and expand ratio, a
ResNet block per input, middle and output width), each as a static module
in eval mode with the input shape it sees in the network; parts of equal
shape are timed once. The table is a JSON file; :func:`load_latency_table`
turns it into a :class:`SlotCostTable` of a population codec.
"""
import dataclasses
import json
import platform
from functools import partial
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from mmofa.structures import PopulationCodec
from mmofa.utils.checkpoint import atomic_write
from .cost_table import SlotCostTable
from .runtimes import (LatencyRuntime, LogitsOf, ModuleToTime, TorchRuntime,
                       Touch)

#: ``(module, inputs) -> ms`` or ``(ms, spread)``: how a part is timed.
Measure = Callable[[nn.Module, torch.Tensor], Union[float, Tuple[float,
                                                                 float]]]

#: What a latency table must reach on random subnets to count as
#: predicting them (:func:`latency_table_fit`).
FIT_LIMITS = dict(kendall_tau=0.6, mape=25.0)


def latency_table_fit(estimates: Sequence[float],
                      measured: Sequence[float]) -> dict:
    """How well table estimates predict measured latencies.

    Returns:
        dict: ``mape`` (mean absolute percentage error, %),
        ``kendall_tau``, ``median_ratio`` / ``min_ratio`` / ``max_ratio``
        (estimate / measured), ``predicts`` (both within
        :data:`FIT_LIMITS`) and ``why`` (what is off, if not).
    """
    from mmofa.engine.runner.population_results import kendall_tau
    estimates = np.asarray(estimates, dtype=np.float64)
    measured = np.asarray(measured, dtype=np.float64)
    ratios = estimates / measured
    fit = dict(
        mape=float(np.mean(np.abs(ratios - 1)) * 100),
        kendall_tau=float(kendall_tau(estimates, measured)),
        median_ratio=float(np.median(ratios)),
        min_ratio=float(ratios.min()),
        max_ratio=float(ratios.max()))
    off = []
    if not fit['kendall_tau'] >= FIT_LIMITS['kendall_tau']:
        off.append(f'Kendall tau {fit["kendall_tau"]:.3f} < '
                   f'{FIT_LIMITS["kendall_tau"]}')
    if not fit['mape'] <= FIT_LIMITS['mape']:
        off.append(f'mean absolute percentage error {fit["mape"]:.1f} % > '
                   f'{FIT_LIMITS["mape"]} %')
    fit.update(predicts=not off, why='; '.join(off))
    return fit


def space_signature(model) -> dict:
    """What a table was measured for: the backbone's family and search
    space, and the classes of its head."""
    space = dataclasses.asdict(model.search_space)
    return json.loads(
        json.dumps(
            dict(
                family=type(model.backbone).__name__,
                space=space,
                num_classes=model.architecture.head.fc.out_features)))


def build_latency_table(model,
                        resolutions: Sequence[int],
                        batch_size: int = 1,
                        device: str = 'cpu',
                        measure: Optional[Measure] = None,
                        progress: Optional[Callable[[int, int], None]] = None,
                        runtime: Optional[LatencyRuntime] = None,
                        calibrate: int = 0,
                        seed: int = 0) -> dict:
    """Measure the lookup table of an ``OFA`` supernet ``model``.

    Args:
        model: An ``OFA`` model of any family (its backbone's
            ``latency_parts`` and population codec).
        resolutions: Input sizes to measure.
        batch_size (int): Images per measured forward. Defaults to 1.
        device (str): Where to measure. Defaults to 'cpu'.
        measure (callable, optional): ``(module, inputs) -> ms`` (or
            ``(ms, spread)``) instead of timing in ``runtime``.
        progress (callable, optional): Called as ``progress(done, total)``.
        runtime (LatencyRuntime, optional): Where parts are timed and what
            the table records of it; defaults to torch on ``device``.
        calibrate (int): Random subnets (of ``seed``) exported and timed
            end to end with the parts, to fit the table's correction
            (:func:`fit_latency_correction`); 0 for none. Leaves ``model``
            at the last of them.
        seed (int): Seed of the calibration subnets.

    Returns:
        dict: The table, ready for :func:`save_latency_table`.
    """
    if calibrate == 1 or calibrate < 0:
        raise ValueError(f'calibrate = {calibrate}: 0 (no correction) or '
                         'at least 2 subnets to fit it on')
    runtime = runtime or TorchRuntime(device)
    codec = model.backbone.population_codec(resolutions)
    num_classes = model.architecture.head.fc.out_features
    layouts = [
        model.backbone.latency_parts(codec, r, batch_size, num_classes)
        for r in codec.resolutions
    ]
    parts: Dict[tuple, tuple] = {}  # key -> (build, input shape)
    for fixed_parts, slots in layouts:
        for key, build, shape in fixed_parts + [
                part for slot in slots for part in slot if part
        ]:
            parts.setdefault(key, (build, tuple(shape)))
    networks = []
    if calibrate:
        calibration = codec.random(calibrate, np.random.default_rng(seed))
        networks = exported_networks(model, codec.to_subnets(calibration),
                                     batch_size)
    # Timed in the runtime, a part's figure includes the cost of a call
    # (binding input and output, dispatch): the table keeps it once, for
    # the whole network, not once per part. It is timed as the least a
    # runtime can run on each input shape, with the parts; a measure of
    # one's own is taken as it is.
    shapes = [] if measure is not None else sorted(
        {shape
         for _, shape in parts.values()} | {(batch_size, 3, r, r)
                                            for r in codec.resolutions})
    modules = [(Touch, shape)
               for shape in shapes] + list(parts.values()) + networks
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, len(modules))

    if measure is None:
        timed = runtime.time_modules(modules, advance)
    else:
        timed = []
        for build, shape in modules:
            result = measure(build().to(device).eval(),
                             torch.randn(*shape, device=device))
            timed.append(result if isinstance(result, tuple) else (result,
                                                                   0.0))
            advance(1)
    overheads = {shape: ms for shape, (ms, _) in zip(shapes, timed)}
    part_times = timed[len(shapes):len(shapes) + len(parts)]
    cache = {
        key: max(float(ms) - overheads.get(shape, 0.0), 0.0)
        for (key, (_, shape)), (ms, _) in zip(parts.items(), part_times)
    }
    spreads = [float(spread) for _, spread in part_times]

    width = max(codec.slot_sizes) if codec.slot_sizes else 0
    fixed = np.zeros(len(resolutions))
    entries = np.zeros((len(resolutions), len(codec.slot_sizes), width))
    for r, (fixed_parts, slots) in enumerate(layouts):
        size = codec.resolutions[r]
        fixed[r] = sum(cache[part[0]] for part in fixed_parts) + \
            overheads.get((batch_size, 3, size, size), 0.0)
        for slot, slot_parts in enumerate(slots):
            for combo, part in enumerate(slot_parts):
                if part is not None:
                    entries[r, slot, combo] = cache[part[0]]
    table = dict(
        kind='mmofa latency lookup table',
        device=device if device == 'cpu' else torch.cuda.get_device_name(),
        machine=f'{platform.machine()}, {platform.processor() or "cpu"}, '
        f'{torch.get_num_threads()} threads, torch {torch.__version__}',
        runtime=dict(
            runtime.describe(),
            # Per-call cost subtracted from each part, counted once.
            call_overhead_ms={
                'x'.join(map(str, shape)): ms
                for shape, ms in sorted(overheads.items())
            }),
        # Interquartile range / median of the timed runs, over the parts.
        spread=dict(
            median=float(np.median(spreads)) if spreads else 0.0,
            max=max(spreads, default=0.0)),
        batch_size=batch_size,
        unit='ms',
        measured_for=space_signature(model),
        resolutions=[int(r) for r in resolutions],
        fixed=fixed.tolist(),
        entries=entries.tolist())
    if calibrate:
        measured = [ms for ms, _ in timed[-calibrate:]]
        table['correction'] = dict(
            fit_latency_correction(
                table_costs(table, codec)(calibration), measured,
                least=min(table['fixed'])),
            seed=int(seed))
    return table


def fit_latency_correction(estimates: Sequence[float],
                           measured: Sequence[float],
                           least: float = 0.0) -> dict:
    """The correction ``measured = scale * estimate + offset`` of a table,
    by least squares over subnets timed end to end.

    Block sums miss what a runtime does across blocks (fusions, layout
    changes, caches); the correction puts it back on average and leaves
    the ranking of subnets (Kendall tau) as it is. A least-squares line
    that does not rise (noise over a narrow range of latencies), that the
    estimates cannot determine (all equal), or that would price a subnet
    of estimate ``least`` (the table's smallest) at 0 or less, gives way
    to the median ratio (``kind='scale'``).

    Returns:
        dict: ``kind``, ``scale``, ``offset``, ``subnets`` and
        :func:`latency_table_fit` of the estimates on those subnets
        before and after (``fit_before``, ``fit_after``).
    """
    estimates = np.asarray(estimates, dtype=np.float64)
    measured = np.asarray(measured, dtype=np.float64)
    scale, offset, kind = 0.0, 0.0, 'linear'
    if np.ptp(estimates) > 0:
        scale, offset = np.polyfit(estimates, measured, 1)
    if not (scale > 0 and scale * least + offset > 0):
        scale, offset, kind = np.median(measured / estimates), 0.0, 'scale'
    return dict(
        kind=kind,
        scale=float(scale),
        offset=float(offset),
        subnets=len(measured),
        fit_before=latency_table_fit(estimates, measured),
        fit_after=latency_table_fit(scale * estimates + offset, measured))


def exported_networks(model, subnets: Sequence,
                      batch_size: int) -> List[ModuleToTime]:
    """Each subnet (with its resolution) of the ``OFA`` supernet ``model``
    as the static network a runtime times end to end: built, by setting
    the subnet and exporting, when its turn comes."""

    def exported(subnet) -> nn.Module:
        model.set_subnet(subnet)
        return LogitsOf(model.export_subnet())

    return [(partial(exported, subnet),
             (batch_size, 3, subnet.resolution, subnet.resolution))
            for subnet in subnets]


def time_subnets(model,
                 runtime: LatencyRuntime,
                 subnets: Sequence,
                 batch_size: int = 1,
                 progress: Optional[Callable[[int], None]] = None
                 ) -> np.ndarray:
    """End-to-end ms of each subnet (with its resolution) exported from the
    ``OFA`` supernet ``model``, in ``runtime``, timed interleaved as the
    table's parts are. Leaves ``model`` at the last subnet."""
    timed = runtime.time_modules(
        exported_networks(model, subnets, batch_size), progress)
    return np.asarray([ms for ms, _ in timed])


def table_costs(table: dict, codec: PopulationCodec,
                corrected: bool = True) -> SlotCostTable:
    """The latencies of ``table`` as a :class:`SlotCostTable` of ``codec``
    (every codec resolution must be in the table), with the table's
    end-to-end correction (``build_latency_table(calibrate=...)``) folded
    in unless ``corrected`` is False: ``scale * (fixed + sum of entries) +
    offset`` is ``scale * fixed + offset`` plus the scaled entries."""
    rows = [table['resolutions'].index(r) for r in codec.resolutions]
    fixed = np.asarray(table['fixed'], dtype=np.float64)[rows]
    entries = np.asarray(table['entries'], dtype=np.float64)[rows]
    correction = table.get('correction')
    if corrected and correction:
        fixed = correction['scale'] * fixed + correction['offset']
        entries = correction['scale'] * entries
    return SlotCostTable(codec, fixed, entries, 'latency')


def save_latency_table(table: dict, path) -> Path:
    path = Path(path)
    atomic_write(path, lambda f: f.write(json.dumps(table).encode()))
    return path


def table_runtime(table: dict) -> dict:
    """What a table records of its runtime (tables of mmofa before
    runtimes were recorded are torch's)."""
    return table.get('runtime') or dict(name='torch')


def load_latency_table(path,
                       model,
                       codec: PopulationCodec,
                       runtime: Optional[str] = None,
                       batch_size: Optional[int] = None,
                       corrected: bool = True) -> SlotCostTable:
    """The table at ``path`` as a :class:`SlotCostTable` of ``codec``'s
    resolutions; the file must have been measured for ``model``'s family,
    search space and head, at every resolution of the codec, and, when
    given, in ``runtime`` (its name) at ``batch_size``. Its end-to-end
    correction, if it has one, applies unless ``corrected`` is False."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'latency table {str(path)!r} does not exist')
    try:
        table = json.loads(path.read_text())
        assert table.get('kind') == 'mmofa latency lookup table'
    except (ValueError, AssertionError, UnicodeDecodeError) as error:
        raise ValueError(f'{path} is not an mmofa latency lookup table '
                         '(tools/analysis/build_latency_table.py writes '
                         'them)') from error
    if 'measured_for' not in table:
        raise ValueError(f'{path} is a latency table of an older mmofa (per '
                         'MobileNetV3 block); measure it again with '
                         'tools/analysis/build_latency_table.py')
    expected = space_signature(model)
    if table['measured_for'] != expected:
        differ = sorted(
            k for k in set(expected) | set(table['measured_for'])
            if table['measured_for'].get(k) != expected.get(k))
        raise ValueError(
            f'{path} was measured for another supernet: {differ} differ '
            f'(table: {[table["measured_for"].get(k) for k in differ]}; '
            f'this model: {[expected.get(k) for k in differ]})')
    measured_in = table_runtime(table)
    if runtime is not None and measured_in['name'] != runtime:
        raise ValueError(
            f'{path} was measured in {measured_in["name"]} '
            f'({measured_in.get("version", "version not recorded")}), not '
            f'in {runtime}: measure a table in {runtime} '
            f'(build_latency_table.py --runtime {runtime})')
    if batch_size is not None and table['batch_size'] != batch_size:
        raise ValueError(
            f'{path} was measured at batch size {table["batch_size"]}, not '
            f'{batch_size}: latencies do not scale with the batch; measure '
            f'one with --batch-size {batch_size}')
    missing = [r for r in codec.resolutions if r not in table['resolutions']]
    if missing:
        raise ValueError(f'{path} has no latencies at resolutions {missing}; '
                         f'it has {table["resolutions"]}')
    return table_costs(table, codec, corrected)
