"""NSGA-II over subnet populations: the whole accuracy-cost front in one
search, instead of one search per constraint.

Deb et al.'s elitist algorithm on a :class:`~mmofa.structures.Population`
of any family, with the family codec's Once-for-All operators:

* a random initial population within the hard limits;
* each generation draws ``population_size`` children from parents chosen
  by binary tournaments (lower front, then larger crowding distance):
  ``mutation_ratio`` of them mutants, the rest crossovers, each drawn
  again while outside the limits;
* parents and children together are sorted into fronts; the next
  population takes whole fronts and, from the last one that fits, the
  most isolated points (crowding distance). A candidate already in the
  pool (the same subnet and resolution) only fills places no distinct
  candidate can, so that the front does not fill with copies.
"""
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import numpy as np

from mmofa.structures.population import Population, PopulationCodec
from .evolution import Constraint, EvolutionSearch, EvolutionState
from .pareto import crowding_distances, hypervolume, non_dominated_ranks

Objectives = Callable[[Population], np.ndarray]


@dataclass
class FrontState(EvolutionState):
    """A multi-objective search's state: ``scores`` are ``[N, M]``
    objective values (minimised), ``best_history`` the hypervolume of the
    first front after each generation, measured from ``reference``."""
    reference: Optional[List[float]] = None

    def best(self) -> int:
        raise TypeError('a multi-objective search has no single best '
                        'candidate; take front()')

    def front(self) -> np.ndarray:
        """Indices of the non-dominated candidates, ordered by the first
        objective, then the next."""
        members = np.flatnonzero(non_dominated_ranks(self.scores) == 0)
        order = np.lexsort(self.scores[members].T[::-1])
        return members[order]


class NSGA2Search(EvolutionSearch):
    """NSGA-II under hard limits.

    Args:
        codec (PopulationCodec): The search space (any family's codec).
        objectives (callable): ``population -> [N, M]`` values, each to be
            minimised (e.g. the negated accuracy and a cost).
        constraint (callable): ``population -> [N]`` booleans, True where
            a candidate is allowed (the hard limits; always True for none).
        population_size (int): Candidates per generation. Defaults to 100.
        mutation_ratio (float): Share of mutants among the children.
            Defaults to 0.5.
        arch_mutate_prob, resolution_mutate_prob, seed, max_draws: As
            :class:`EvolutionSearch`.
        reference (sequence, optional): The hypervolume's reference point
            (a worst value per objective) for the progress history; an
            objective without one (None, or no reference at all) takes the
            worst value of the initial population.
    """

    def __init__(self,
                 codec: PopulationCodec,
                 objectives: Objectives,
                 constraint: Constraint,
                 population_size: int = 100,
                 mutation_ratio: float = 0.5,
                 arch_mutate_prob: float = 0.1,
                 resolution_mutate_prob: float = 0.5,
                 seed: int = 0,
                 max_draws: int = 1000,
                 reference: Optional[Sequence[float]] = None):
        super().__init__(
            codec,
            objectives,
            constraint,
            population_size=population_size,
            parent_ratio=1.0,
            mutation_ratio=mutation_ratio,
            arch_mutate_prob=arch_mutate_prob,
            resolution_mutate_prob=resolution_mutate_prob,
            seed=seed,
            max_draws=max_draws,
            novel_children=False,
            restart_after=None)
        self.reference = reference

    def objective_values(self, population: Population) -> np.ndarray:
        values = np.asarray(self.score(population), dtype=np.float64)
        if values.ndim != 2 or len(values) != len(population):
            raise ValueError(
                f'the objectives of {len(population)} candidates must be '
                f'[{len(population)}, M] values, got shape {values.shape}')
        return values

    def initial_state(self, seeds: Optional[Population] = None) -> FrontState:
        """A random population within the limits (``seeds`` within them
        first), its objective values and the hypervolume reference."""
        population, rng_state = self.initial_population(seeds)
        values = self.objective_values(population)
        return FrontState(
            population,
            values,
            rng_state=rng_state,
            reference=self.reference_point(values))

    def reference_point(self, initial: np.ndarray) -> List[float]:
        """The hypervolume reference: the given one, the worst values of
        the ``initial`` objective values where none is given."""
        worst = initial.max(0).tolist()
        if self.reference is None:
            return worst
        if len(self.reference) != len(worst):
            raise ValueError(f'reference {list(self.reference)} must have '
                             f'one value per objective ({len(worst)})')
        return [
            w if r is None else float(r)
            for r, w in zip(self.reference, worst)
        ]

    def step(self, state: FrontState) -> FrontState:
        """One generation: tournament parents, children within the limits,
        then elitist survival by front and crowding distance."""
        rng = np.random.default_rng()
        rng.bit_generator.state = state.rng_state
        population, values = state.population, state.scores
        ranks = non_dominated_ranks(values)
        crowding = crowding_distances(values, ranks)

        def tournament(num: int) -> np.ndarray:
            first = rng.integers(0, len(population), num)
            second = rng.integers(0, len(population), num)
            second_wins = (ranks[second] < ranks[first]) | (
                (ranks[second] == ranks[first]) &
                (crowding[second] > crowding[first]))
            return np.where(second_wins, second, first)

        mutant_parents = tournament(self.num_mutants)
        mutants = self._within_constraint(
            lambda slots: self.codec.mutate(
                population[mutant_parents[slots]], rng, self.arch_mutate_prob,
                self.resolution_mutate_prob), self.num_mutants, 'mutants')

        def cross(slots):
            return self.codec.crossover(population[tournament(len(slots))],
                                        population[tournament(len(slots))],
                                        rng)

        crossovers = self._within_constraint(
            cross, self.population_size - self.num_mutants, 'crossovers')
        children = Population.concatenate([mutants, crossovers])
        pool = Population.concatenate([population, children])
        pool_values = np.concatenate([values, self.objective_values(children)])
        keep, ranks = self.survivors(pool, pool_values)
        survivors, survivor_values = pool[keep], pool_values[keep]
        front = survivor_values[ranks == 0]
        return FrontState(
            survivors,
            survivor_values,
            state.generation + 1,
            state.best_history + [hypervolume(front, state.reference)],
            rng.bit_generator.state,
            reference=state.reference)

    def survivors(self, pool: Population, values: np.ndarray):
        """Indices of the ``population_size`` candidates of ``pool`` that
        go on (distinct candidates by front, then crowding distance;
        repeats of a candidate last) and their front indices in the pool,
        which are theirs among the survivors too (whole fronts survive,
        then part of the next; repeats get the largest index)."""
        first = {}
        for index, key in enumerate(self.codec.unique_keys(pool)):
            first.setdefault(key, index)
        distinct = np.fromiter(first.values(), dtype=np.int64)
        ranks = np.full(len(pool), np.iinfo(np.int64).max)
        crowding = np.zeros(len(pool))
        ranks[distinct] = non_dominated_ranks(values[distinct])
        crowding[distinct] = crowding_distances(values[distinct],
                                                ranks[distinct])
        keep = np.sort(np.lexsort((-crowding, ranks))[:self.population_size])
        return keep, ranks[keep]
