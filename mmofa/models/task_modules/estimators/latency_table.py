"""Latency lookup tables measured on the machine at hand.

Once-for-All prices a subnet's latency as the sum of per-layer latencies
looked up by layer shape. Here the layers are measured where the table is
built: for each resolution, the fixed stem and tail, and every elastic
block with every (kernel size, expand ratio), each as a static module in
eval mode with the input shape it sees in the network. Blocks of one
stage after the first share their shapes, so each shape is timed once.
The table is a JSON file; :func:`load_latency_table` turns it into a
:class:`BlockCostTable` for the search.
"""
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from mmofa.structures import MobileNetV3PopulationCodec
from mmofa.utils.checkpoint import atomic_write
from .cost_table import BlockCostTable

Measure = Callable[[nn.Module, torch.Tensor], float]


def time_forward(module: nn.Module,
                 inputs: torch.Tensor,
                 warmup: int = 3,
                 repeats: int = 20) -> float:
    """Median wall time of ``module(inputs)`` in ms (no grad, synced)."""
    device = inputs.device

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    times = []
    with torch.no_grad():
        for i in range(warmup + repeats):
            sync()
            start = time.perf_counter()
            module(inputs)
            sync()
            if i >= warmup:
                times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


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


def _space_signature(codec: MobileNetV3PopulationCodec) -> dict:
    space = codec.space
    return dict(
        kernel_sizes=[list(k) for k in space.kernel_sizes],
        expand_ratios=[list(e) for e in space.expand_ratios],
        depths=[list(d) for d in space.depths],
        stage_out_channels=list(space.stage_out_channels),
        first_channels=space.first_channels,
        last_channels=space.last_channels)


def build_latency_table(model,
                        resolutions: Sequence[int],
                        batch_size: int = 1,
                        device: str = 'cpu',
                        measure: Optional[Measure] = None,
                        progress: Optional[Callable[[int, int],
                                                    None]] = None) -> dict:
    """Measure the lookup table of an OFA supernet ``model``.

    Args:
        model: An ``OFA`` model (its backbone's layout and search space).
        resolutions: Input sizes to measure.
        batch_size (int): Images per measured forward. Defaults to 1.
        device (str): Where to measure. Defaults to 'cpu'.
        measure (callable, optional): ``(module, inputs) -> ms``; defaults
            to :func:`time_forward`.
        progress (callable, optional): Called as ``progress(done, total)``.

    Returns:
        dict: The table, ready for :func:`save_latency_table`.
    """
    from mmofa.models.architectures.static.bricks import build_last_conv
    from mmofa.models.architectures.static.mobilenet_v3 import (MBConvBlock,
                                                                build_stem)
    measure = measure or time_forward
    codec = MobileNetV3PopulationCodec(model.search_space, resolutions)
    space, layout = codec.space, model.backbone.layout
    fc = model.architecture.head.fc
    num_k, num_e = max(codec.num_kernels), max(codec.num_expands)
    fixed = np.zeros(len(resolutions))
    blocks = np.zeros((len(resolutions), codec.num_blocks, num_k, num_e))
    cache: Dict[tuple, float] = {}
    total = len(resolutions) * (2 + sum(
        len(space.kernel_sizes[s]) * len(space.expand_ratios[s]) *
        space.max_depths[s] for s in range(space.num_stages)))
    done = 0

    def timed(key, build, shape):
        nonlocal done
        if key not in cache:
            module = build().to(device).eval()
            cache[key] = float(
                measure(module, torch.randn(*shape, device=device)))
        done += 1
        if progress is not None:
            progress(done, total)
        return cache[key]

    for r, resolution in enumerate(resolutions):
        head_in = (resolution - 1) // 2 + 1  # after the stride-2 stem
        b = 0
        for s in range(space.num_stages):
            for position in range(space.max_depths[s]):
                stride = layout.stage_strides[s] if position == 0 else 1
                in_channels = space.block_in_channels(s, position)
                for i, k in enumerate(space.kernel_sizes[s]):
                    for j, e in enumerate(space.expand_ratios[s]):
                        args = (in_channels, space.stage_out_channels[s], k,
                                stride, e, layout.stage_acts[s],
                                layout.stage_use_se[s])
                        blocks[r, b, i, j] = timed(
                            ('block', head_in) + args,
                            lambda args=args: MBConvBlock(*args),
                            (batch_size, in_channels, head_in, head_in))
                head_in = (head_in - 1) // stride + 1
                b += 1
        tail_in = space.stage_out_channels[-1]
        fixed[r] = timed(
            ('stem', resolution), lambda: nn.Sequential(*build_stem(layout)),
            (batch_size, 3, resolution, resolution)) + timed(
                ('tail', head_in), lambda: nn.Sequential(
                    build_last_conv(tail_in, layout.final_expand_channels,
                                    layout.last_channels), nn.Flatten(1),
                    nn.Linear(layout.last_channels, fc.out_features, fc.bias is
                              not None)),
                (batch_size, tail_in, head_in, head_in))
    return dict(
        kind='mmofa latency lookup table',
        device=device if device == 'cpu' else torch.cuda.get_device_name(),
        machine=f'{platform.machine()}, {platform.processor() or "cpu"}, '
        f'{torch.get_num_threads()} threads, torch {torch.__version__}',
        batch_size=batch_size,
        unit='ms',
        space=_space_signature(codec),
        resolutions=list(resolutions),
        fixed=fixed.tolist(),
        blocks=blocks.tolist())


def save_latency_table(table: dict, path) -> Path:
    path = Path(path)
    atomic_write(path, lambda f: f.write(json.dumps(table).encode()))
    return path


def load_latency_table(path,
                       codec: MobileNetV3PopulationCodec) -> BlockCostTable:
    """The table at ``path`` as a :class:`BlockCostTable` of ``codec``'s
    resolutions; the file must have been built for the same space and
    every resolution of the codec."""
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
    if table['space'] != _space_signature(codec):
        raise ValueError(f'{path} was measured for another search space or '
                         f'width: {table["space"]} vs '
                         f'{_space_signature(codec)}')
    missing = [r for r in codec.resolutions if r not in table['resolutions']]
    if missing:
        raise ValueError(f'{path} has no latencies at resolutions {missing}; '
                         f'it has {table["resolutions"]}')
    rows = [table['resolutions'].index(r) for r in codec.resolutions]
    return BlockCostTable(codec,
                          np.asarray(table['fixed'])[rows],
                          np.asarray(table['blocks'])[rows], 'latency')
