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
        rows = values[start:start + _CHUNK, None, :]
        dominated = ((values[None] <= rows).all(-1) &
                     (values[None] < rows).any(-1)).any(1)
        keep[start:start + _CHUNK] = ~dominated
    return keep


def non_dominated_ranks(values) -> np.ndarray:
    """``[N]`` front indices: 0 for the non-dominated points, 1 for those
    only the first front dominates, and so on (NSGA-II's sorting)."""
    values = _as_values(values)
    dominates = (values[:, None] <= values[None]).all(-1) & (
        values[:, None] < values[None]).any(-1)
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
    infinite at a front's ends."""
    values = _as_values(values)
    distance = np.zeros(len(values))
    for rank in np.unique(ranks):
        members = np.flatnonzero(ranks == rank)
        if len(members) <= 2:
            distance[members] = np.inf
            continue
        for column in values[members].T:
            order = np.argsort(column, kind='stable')
            sorted_values = column[order]
            span = sorted_values[-1] - sorted_values[0]
            gaps = np.full(len(members), np.inf)
            if span > 0:
                gaps[1:-1] = (sorted_values[2:] - sorted_values[:-2]) / span
            else:
                gaps[1:-1] = 0.0
            distance[members[order]] += gaps
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
