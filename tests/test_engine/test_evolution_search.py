import json

import numpy as np
import pytest
from helpers import W10_CONFIG

from mmofa.apis import init_model
from mmofa.engine.runner import (ConstraintError, EvolutionSearch,
                                 EvolutionState, cost_constraint)
from mmofa.models.task_modules import SlotCostTable, count_macs_params
from mmofa.structures import MobileNetV3PopulationCodec

RESOLUTIONS = [160, 176, 192, 208, 224]


@pytest.fixture(scope='module')
def space():
    supernet = init_model(W10_CONFIG)
    codec = MobileNetV3PopulationCodec(supernet.search_space, RESOLUTIONS)
    tables = dict(
        flops=SlotCostTable.flops(supernet.resource_estimator, codec),
        params=SlotCostTable.params(supernet.resource_estimator, codec))
    return supernet, codec, tables


def similarity_to(codec, target):
    """A synthetic score with a known optimum: the number of one-hot slots
    shared with ``target`` (maximal only for the target itself)."""
    code = codec.encode(target)[0]

    def score(population):
        features = codec.encode(population)
        return features @ code - 0.5 * (features * (1 - code)).sum(1)

    return score, float(code.sum())


def test_finds_a_known_optimum_within_the_constraint(space):
    supernet, codec, tables = space
    rng = np.random.default_rng(0)
    candidates = codec.random(500, rng)
    flops = tables['flops'](candidates)
    # A target in the middle of the FLOPs range; the limit just admits it.
    target = candidates[int(np.argsort(flops)[250])]
    limit = float(tables['flops'](target)[0]) + 1.0
    score, best_possible = similarity_to(codec, target)
    search = EvolutionSearch(
        codec, score, cost_constraint(tables, {'flops': limit}), seed=1)
    state = search.run(150)
    best = state.population[state.best()]
    # Tolerance: the exact optimum (all 2 x active blocks + 1 slots equal).
    assert state.scores[state.best()] == best_possible
    assert codec.to_subnets(best) == codec.to_subnets(target)
    assert np.all(tables['flops'](state.population) <= limit)
    assert state.best_history == sorted(state.best_history)


def test_results_satisfy_every_constraint_by_a_direct_count(space):
    supernet, codec, tables = space
    limits = {'flops': 300.0, 'params': 5.0}
    score, _ = similarity_to(codec, codec.random(1, np.random.default_rng(9)))
    state = EvolutionSearch(
        codec,
        score,
        cost_constraint(tables, limits),
        population_size=40,
        seed=2).run(20)
    assert np.all(tables['flops'](state.population) <= 300.0)
    assert np.all(tables['params'](state.population) <= 5.0)
    order = np.argsort(-state.scores)[:3]
    for subnet in codec.to_subnets(state.population[order]):
        supernet.set_subnet(subnet)
        size = subnet.resolution
        macs, params = count_macs_params(supernet.export_subnet(),
                                         (1, 3, size, size))
        assert macs / 1e6 <= 300.0 and params / 1e6 <= 5.0


def test_resumed_search_equals_an_uninterrupted_one(space):
    _, codec, tables = space
    score, _ = similarity_to(codec, codec.random(1, np.random.default_rng(7)))

    def search():
        return EvolutionSearch(
            codec,
            score,
            cost_constraint(tables, {'flops': 350}),
            population_size=30,
            seed=3)

    whole = search().run(12)
    half = search().run(5)
    saved = json.loads(json.dumps(half.to_dict()))  # through a file
    resumed = search().run(12,
                           EvolutionState.from_dict(saved, codec.gene_names))
    assert resumed.generation == whole.generation == 12
    assert np.array_equal(resumed.scores, whole.scores)
    for name in ('kernel', 'expand', 'depth', 'resolution'):
        assert np.array_equal(
            getattr(resumed.population, name), getattr(whole.population, name))


def test_impossible_constraints_fail_clearly(space):
    _, codec, tables = space
    search = EvolutionSearch(
        codec,
        lambda p: np.zeros(len(p)),
        cost_constraint(tables, {'flops': 10}),
        max_draws=5)
    with pytest.raises(ConstraintError, match='100 of 100 random candidates'):
        search.initial_state()
    with pytest.raises(KeyError, match=r"\['latency'\]: no such cost"):
        cost_constraint(tables, {'latency': 10})
    with pytest.raises(ValueError, match='parent_ratio = 2'):
        EvolutionSearch(codec, None, None, parent_ratio=2)


def test_seeds_that_satisfy_the_constraint_start_the_population(space):
    supernet, codec, tables = space
    rng = np.random.default_rng(3)
    candidates = codec.random(40, rng)
    flops = tables['flops'](candidates)
    limit = float(np.median(flops))
    search = EvolutionSearch(
        codec,
        lambda p: np.zeros(len(p)),
        cost_constraint(tables, {'flops': limit}),
        population_size=30)
    state = search.initial_state(seeds=candidates)
    inside = candidates[flops <= limit]
    assert len(inside) < 30
    head = state.population[np.arange(len(inside))]
    assert codec.to_subnets(head) == codec.to_subnets(inside)
    assert np.all(tables['flops'](state.population) <= limit)


def test_a_looser_limit_of_a_sweep_never_returns_a_worse_best(space):
    """A search that ends below a tighter one's best (a small population,
    few generations) gets that subnet: it is within its limits too."""
    from mmofa.engine.runner.evolution_search_loop import keep_best_across
    supernet, codec, tables = space
    rng = np.random.default_rng(4)
    pool = codec.random(50, rng)
    order = np.argsort(tables['flops'](pool))
    small, tight, loose = (pool[np.array([i])] for i in order[[0, 25, 40]])
    flops_tight = float(tables['flops'](tight)[0])

    def result(name, limit, best, score):
        return dict(
            constraint=name,
            limits={'flops': limit},
            best=best,
            score=score,
            resolution=224,
            subnet_object=name,
            flops=float(tables['flops'](best)[0]),
            params=float(tables['params'](best)[0]))

    results = keep_best_across([
        result('tight', flops_tight, tight, 80.0),
        result('loose', flops_tight + 1e6, loose, 70.0),
        result('tighter', flops_tight - 1e-3, small, 60.0)
    ], tables)
    assert [r['score'] for r in results] == [80.0, 80.0, 60.0]
    assert results[1]['subnet_object'] == 'tight'
    assert results[1]['flops'] == flops_tight


def test_children_are_never_scored_twice(space):
    """Novel children (the default): every candidate scored is new; the
    official algorithm scores many again."""
    _, codec, tables = space
    score, _ = similarity_to(codec, codec.random(1, np.random.default_rng(5)))
    counts = {}
    for novel in (True, False):
        keys = []

        def counted(population):
            keys.extend(codec.unique_keys(population).tolist())
            return score(population)

        EvolutionSearch(
            codec,
            counted,
            cost_constraint(tables, {'flops': 300}),
            population_size=30,
            seed=1,
            novel_children=novel).run(40)
        counts[novel] = len(keys) - len(set(keys))
    assert counts[True] == 0
    assert counts[False] > 100


def test_a_stagnant_search_restarts_and_keeps_its_best(space):
    _, codec, tables = space
    target = codec.random(1, np.random.default_rng(8))
    score, _ = similarity_to(codec, target)

    def search():
        return EvolutionSearch(
            codec,
            score,
            cost_constraint(tables, {'flops': 400}),
            population_size=20,
            seed=6,
            restart_after=3)

    restarts, states, saved = [], [], []

    def keep(state):  # a state's seen set grows on: save it at once
        states.append(state)
        saved.append(json.dumps(state.to_dict()))

    whole = search().run(40, callback=keep)
    for before, after in zip(states, states[1:]):
        if after.elite is not None and (before.elite is None
                                        or after.elite != before.elite):
            restarts.append(after.generation)
            # A new population, none of it a candidate of the last one.
            old = set(codec.unique_keys(before.population).tolist())
            assert not old & set(codec.unique_keys(after.population).tolist())
    assert restarts, 'no restart in 40 generations with restart_after=3'
    # The best ever found is returned, though the last population may not
    # hold it.
    assert whole.scores[whole.best()] == max(whole.best_history)
    assert whole.best_history == sorted(whole.best_history)
    # Resumed (through JSON) after a restart: as uninterrupted.
    middle = json.loads(saved[restarts[0]])  # one generation after it
    resumed = search().run(40,
                           EvolutionState.from_dict(middle, codec.gene_names))
    assert resumed.population == whole.population
    assert np.array_equal(resumed.scores, whole.scores)
    with pytest.raises(ValueError, match='restart_after = 0'):
        EvolutionSearch(codec, score, None, restart_after=0)
