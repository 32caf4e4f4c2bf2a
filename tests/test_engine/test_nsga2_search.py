"""NSGA-II: the Pareto utilities on exact cases, and the search recovering a
front known by enumerating a whole (small) search space."""
import itertools
import json

import numpy as np
import pytest
from helpers import tiny_supernet_cfg

from mmofa.apis import init_model
from mmofa.models.task_modules import SlotCostTable
from mmofa.search import (FrontState, NSGA2Search, crowding_distances,
                          hypervolume, non_dominated, non_dominated_ranks)
from mmofa.structures import Population


def test_non_dominated_sorting_on_a_hand_example():
    values = np.array([[1, 3], [2, 2], [3, 1], [2, 3], [3, 3], [1, 3], [4, 4]])
    assert non_dominated(values).tolist() == [
        True, True, True, False, False, True, False
    ]
    assert non_dominated_ranks(values).tolist() == [0, 0, 0, 1, 2, 0, 3]
    distance = crowding_distances(values, non_dominated_ranks(values))
    # Ends of the first front are infinite; (2, 2) sits between (1, 3) and
    # (3, 1): 2/2 in each objective.
    assert distance[1] == pytest.approx(2.0)
    assert np.isinf(distance[[2, 6]]).all()


def test_hypervolume_is_exact():
    assert hypervolume([[1, 3], [2, 2], [3, 1]], [4, 4]) == 6.0
    # Points on or beyond the reference add nothing.
    assert hypervolume([[4, 1], [1, 5]], [4, 4]) == 0.0
    assert hypervolume([[0.5]], [2]) == 1.5
    # Random integer points in 3 and 4 objectives: the number of unit cells
    # some point dominates.
    rng = np.random.default_rng(0)
    for objectives in (3, 4):
        points = rng.integers(0, 5, (12, objectives))
        cells = np.array(list(itertools.product(range(5), repeat=objectives)))
        covered = (points[None] <= cells[:, None]).all(-1).any(1).sum()
        assert hypervolume(points, [5] * objectives) == covered
    with pytest.raises(ValueError, match='one value per objective'):
        hypervolume([[1, 2]], [3])


@pytest.fixture(scope='module')
def small_space():
    """The tiny supernet with kernel 3, expand 3/6 and depth 1/2 at two
    resolutions: 15552 distinct candidates, every one enumerated."""
    cfg = tiny_supernet_cfg()
    cfg['architecture']['backbone'].update(
        kernel_sizes=(3, ), expand_ratios=(3, 6), depths=(1, 2))
    model = init_model(dict(model=cfg))
    codec = model.backbone.population_codec([32, 48], ())
    columns = [(name, c) for name in codec.gene_names
               for c in codec.gene_counts[name]]
    grid = np.array(
        list(
            itertools.product(*[range(c) for _, c in columns],
                              range(len(codec.resolutions)))))
    genes, start = {}, 0
    for name in codec.gene_names:
        width = len(codec.gene_counts[name])
        genes[name] = grid[:, start:start + width]
        start += width
    everything = Population(genes, grid[:, -1])
    _, first = np.unique(codec.unique_keys(everything), return_index=True)
    everything = everything[np.sort(first)]
    assert len(everything) == 2 * 6**5
    tables = dict(
        flops=SlotCostTable.flops(model.resource_estimator, codec),
        params=SlotCostTable.params(model.resource_estimator, codec))
    weights = np.random.default_rng(0).standard_normal(codec.encoding_size)
    return codec, everything, tables, weights


def objectives_of(codec, tables, weights, costs):
    """A synthetic accuracy (a fixed linear function of the predictor's
    features, negated) and real costs."""

    def values(population):
        return np.stack([-(codec.encode(population) @ weights)] +
                        [tables[c](population) for c in costs], 1)

    return values


@pytest.mark.parametrize('costs,population_size,generations',
                         [(('flops', ), 40, 30),
                          (('flops', 'params'), 60, 40)])
def test_recovers_a_front_known_by_enumeration(small_space, costs,
                                               population_size, generations):
    codec, everything, tables, weights = small_space
    values = objectives_of(codec, tables, weights, costs)
    every_value = values(everything)
    true_front = np.unique(every_value[non_dominated(every_value)], axis=0)
    reference = every_value.max(0)
    for seed in range(3):
        state = NSGA2Search(
            codec,
            values,
            lambda p: np.ones(len(p), dtype=bool),
            population_size=population_size,
            seed=seed).run(generations)
        found = np.unique(state.scores[state.front()], axis=0)
        # Tolerance: none; every point of the true front (19 with FLOPs,
        # 39 with FLOPs and params) is found, after evaluating 8 % (2
        # objectives) or 16 % (3) of the space.
        assert found.shape == true_front.shape, (seed, len(found))
        np.testing.assert_allclose(found, true_front)
        assert hypervolume(found, reference) == pytest.approx(
            hypervolume(true_front, reference))
        assert state.best_history == sorted(state.best_history)


def test_hard_limits_hold_for_every_candidate(small_space):
    codec, everything, tables, weights = small_space
    flops = tables['flops'](everything)
    limit = float(np.median(flops))
    state = NSGA2Search(
        codec,
        objectives_of(codec, tables, weights, ('params', )),
        lambda p: tables['flops'](p) <= limit,
        population_size=40,
        seed=0).run(30)
    assert np.all(tables['flops'](state.population) <= limit)
    # The front is the enumerated front of the allowed candidates.
    allowed = everything[flops <= limit]
    every_value = objectives_of(codec, tables, weights, ('params', ))(allowed)
    true_front = np.unique(every_value[non_dominated(every_value)], axis=0)
    found = np.unique(state.scores[state.front()], axis=0)
    assert found.shape == true_front.shape
    np.testing.assert_allclose(found, true_front)


def test_resumed_search_equals_an_uninterrupted_one(small_space):
    codec, _, tables, weights = small_space
    values = objectives_of(codec, tables, weights, ('flops', 'params'))

    def search():
        return NSGA2Search(
            codec,
            values,
            lambda p: tables['params'](p) <= 0.05,
            population_size=20,
            seed=4)

    whole = search().run(10)
    saved = json.loads(json.dumps(search().run(4).to_dict()))
    resumed = search().run(10, FrontState.from_dict(saved, codec.gene_names))
    assert resumed.population == whole.population
    assert np.array_equal(resumed.scores, whole.scores)
    assert resumed.best_history == whole.best_history
    assert resumed.reference == whole.reference


def test_bad_settings_are_refused(small_space):
    codec, _, tables, weights = small_space
    search = NSGA2Search(
        codec,
        lambda p: np.zeros(len(p)),
        lambda p: np.ones(len(p), dtype=bool),
        population_size=4)
    with pytest.raises(ValueError, match=r'must be \[4, M\] values'):
        search.initial_state()
    with pytest.raises(TypeError, match='take front'):
        FrontState(
            codec.random(2, np.random.default_rng(0)), np.zeros(
                (2, 2))).best()
    with pytest.raises(ValueError, match='mutation_ratio = 3'):
        NSGA2Search(codec, None, None, mutation_ratio=3)
