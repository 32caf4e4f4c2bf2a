"""Pareto fronts of objective values, all minimised: non-dominated sorting,
crowding distance and the exact hypervolume (what NSGA-II and the front
comparisons of benchmarks/ use).

Every function takes ``values``, an ``[N, M]`` array of ``N`` points and
``M`` objectives, each to be minimised (negate an accuracy).
"""
from typing import Sequence

import numpy as np

_CHUNK = 1024  # rows compared with all others at once in non_dominated


def _as_values(values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f'objective values must be [N, M], got shape '
                         f'{values.shape}')
    return values


def non_dominated(values) -> np.ndarray:
    """``[N]`` booleans: True where no other point dominates the point (is
    as good in every objective and better in one). Equal points are all
    kept."""
    values = _as_values(values)
    keep = np.ones(len(values), dtype=bool)
    for start in range(0, len(values), _CHUNK):
        keep[start:start +
             _CHUNK] = ~_dominance(values, values[start:start + _CHUNK]).any(0)
    return keep


def _dominance(values: np.ndarray, others=None) -> np.ndarray:
    """``[N, K]`` booleans: whether point ``i`` of ``values`` dominates
    point ``j`` of ``others`` (``values`` itself by default); one
    comparison per objective (faster than reducing a short last axis)."""
    others = values if others is None else others
    no_worse = np.ones((len(values), len(others)), dtype=bool)
    better = np.zeros_like(no_worse)
    for column, other in zip(values.T, others.T):
        no_worse &= column[:, None] <= other[None]
        better |= column[:, None] < other[None]
    return no_worse & better


def non_dominated_ranks(values) -> np.ndarray:
    """``[N]`` front indices: 0 for the non-dominated points, 1 for those
    only the first front dominates, and so on (NSGA-II's sorting)."""
    dominates = _dominance(_as_values(values))
    dominators = dominates.sum(0)
    ranks = np.full(len(values), -1, dtype=np.int64)
    rank = 0
    front = np.flatnonzero(dominators == 0)
    while front.size:
        ranks[front] = rank
        dominators -= dominates[front].sum(0)
        dominators[front] = -1
        front = np.flatnonzero(dominators == 0)
        rank += 1
    return ranks


def crowding_distances(values, ranks: np.ndarray) -> np.ndarray:
    """``[N]`` NSGA-II crowding distances, within each point's front: per
    objective, the gap between the two neighbours over the front's range;
    infinite at a front's ends (and for fronts of one or two points)."""
    values = _as_values(values)
    ranks = np.asarray(ranks)
    distance = np.zeros(len(values))
    if not len(values):
        return distance
    for column in values.T:
        order = np.lexsort((column, ranks))  # by front, then by value
        sorted_values, sorted_ranks = column[order], ranks[order]
        starts = np.flatnonzero(np.r_[True,
                                      sorted_ranks[1:] != sorted_ranks[:-1]])
        ends = np.r_[starts[1:], len(order)] - 1
        span = np.repeat(sorted_values[ends] - sorted_values[starts],
                         ends - starts + 1)
        gaps = np.zeros(len(order))
        gaps[1:-1] = sorted_values[2:] - sorted_values[:-2]
        gaps = np.divide(gaps, span, out=np.zeros_like(gaps), where=span > 0)
        gaps[starts] = gaps[ends] = np.inf
        distance[order] += gaps
    return distance


def hypervolume(values, reference: Sequence[float]) -> float:
    """The exact volume dominated by the points and bounded by
    ``reference`` (worse than every counted point in each objective);
    points not strictly better than the reference in every objective add
    nothing."""
    values = _as_values(values)
    reference = np.asarray(reference, dtype=np.float64)
    if reference.shape != (values.shape[1], ):
        raise ValueError(f'reference {reference.tolist()} must have one '
                         f'value per objective ({values.shape[1]})')
    values = values[(values < reference).all(1)]
    if not len(values):
        return 0.0
    return float(_volume(values[non_dominated(values)], reference))


def _volume(values: np.ndarray, reference: np.ndarray) -> float:
    """Hypervolume of points all inside the reference box: a sweep in two
    objectives, slices along the last objective above that."""
    if values.shape[1] == 1:
        return float(reference[0] - values[:, 0].min())
    if values.shape[1] == 2:
        order = np.lexsort((values[:, 1], values[:, 0]))
        x, y = values[order, 0], values[order, 1]
        best_y = np.minimum.accumulate(y)
        right = np.append(x[1:], reference[0])
        return float(((right - x) * (reference[1] - best_y)).sum())
    order = np.argsort(values[:, -1], kind='stable')
    values = values[order]
    tops = np.append(values[1:, -1], reference[-1])
    total = 0.0
    for i in range(len(values)):
        height = tops[i] - values[i, -1]
        if height > 0:
            below = values[:i + 1, :-1]
            total += height * _volume(below[non_dominated(below)],
                                      reference[:-1])
    return total
