"""Once-for-All's evolutionary search, on whole populations at once.

The official ``EvolutionFinder`` mutates, crosses and prices one candidate
at a time in Python (its FLOPs model alone costs ~0.65 ms per call); here
every generation is a handful of numpy operations on a
:class:`~mmofa.structures.Population` of any family (its codec's operators)
and one batched scoring call, with the same operators and the same
schedule:

* a random initial population of ``population_size`` candidates within the
  constraints;
* each generation keeps the best ``parent_ratio`` of the population as
  parents, and adds ``mutation_ratio * population_size`` mutants of random
  parents and ``population_size - mutants`` crossovers of two random
  parents;
* candidates outside the constraints are drawn again (a mutant from the
  same parent), as the official rejection loop does.
"""
import copy
from dataclasses import dataclass, field, fields
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from mmofa.structures.population import Population, PopulationCodec

Score = Callable[[Population], np.ndarray]
Constraint = Callable[[Population], np.ndarray]


class ConstraintError(RuntimeError):
    """No candidate satisfies the constraints."""


@dataclass
class EvolutionState:
    """Everything needed to continue a search: population, scores, the
    generation reached, the progress after each generation (the best
    score; NSGA-II: the front's hypervolume) and the random generator's
    state.

    ``scores`` is ``[N]`` (higher is better) or, in a multi-objective
    search, ``[N, M]`` objective values (all minimised).
    """
    population: Population
    scores: np.ndarray
    generation: int = 0
    best_history: List[float] = field(default_factory=list)
    rng_state: Optional[dict] = None

    def best(self) -> int:
        """Index of the best candidate."""
        return int(np.argmax(self.scores))

    def to_dict(self) -> dict:
        data = self.population.to_dict()
        for item in fields(self)[1:]:
            value = getattr(self, item.name)
            data[item.name] = value.tolist() if isinstance(
                value, np.ndarray) else copy.deepcopy(value)
        return data

    @classmethod
    def from_dict(cls, data: dict,
                  gene_names: Sequence[str]) -> 'EvolutionState':
        """What :meth:`to_dict` wrote, for a codec with ``gene_names``."""
        values = {
            item.name: data[item.name]
            for item in fields(cls)[1:] if item.name in data
        }
        values['scores'] = np.asarray(values['scores'], dtype=np.float64)
        values['generation'] = int(values['generation'])
        return cls(Population.from_dict(data, gene_names), **values)


class EvolutionSearch:
    """Evolutionary search under constraints (the official algorithm).

    Args:
        codec (PopulationCodec): The search space and sizes (any family's
            codec).
        score (callable): ``population -> [N]`` scores, higher is better
            (predicted or measured accuracy).
        constraint (callable): ``population -> [N]`` booleans, True where
            a candidate is allowed.
        population_size (int): Candidates per generation. Defaults to 100.
        parent_ratio (float): Share kept as parents. Defaults to 0.25.
        mutation_ratio (float): Share of mutants among the children.
            Defaults to 0.5.
        arch_mutate_prob (float): Probability to redraw each block's
            (kernel, expand) and each stage's depth. Defaults to 0.1.
        resolution_mutate_prob (float): Probability to redraw the
            resolution. Defaults to 0.5.
        seed (int): Seed of the random generator. Defaults to 0.
        max_draws (int): Rejection rounds before giving up with a
            :class:`ConstraintError`. Defaults to 1000.
    """

    def __init__(self,
                 codec: PopulationCodec,
                 score: Score,
                 constraint: Constraint,
                 population_size: int = 100,
                 parent_ratio: float = 0.25,
                 mutation_ratio: float = 0.5,
                 arch_mutate_prob: float = 0.1,
                 resolution_mutate_prob: float = 0.5,
                 seed: int = 0,
                 max_draws: int = 1000):
        for name, value in (('parent_ratio', parent_ratio), ('mutation_ratio',
                                                             mutation_ratio),
                            ('arch_mutate_prob',
                             arch_mutate_prob), ('resolution_mutate_prob',
                                                 resolution_mutate_prob)):
            if not 0 <= value <= 1:
                raise ValueError(f'{name} = {value!r} must be in [0, 1]')
        self.codec = codec
        self.score = score
        self.constraint = constraint
        self.population_size = int(population_size)
        self.num_parents = int(round(parent_ratio * population_size))
        self.num_mutants = int(round(mutation_ratio * population_size))
        if self.population_size < 1 or self.num_parents < 1:
            raise ValueError(
                f'population_size = {population_size!r} and parent_ratio = '
                f'{parent_ratio!r} must leave at least one parent')
        self.arch_mutate_prob = arch_mutate_prob
        self.resolution_mutate_prob = resolution_mutate_prob
        self.seed = seed
        self.max_draws = max_draws

    # ------------------------------------------------------------ drawing
    def _within_constraint(self, draw: Callable[[np.ndarray], Population],
                           num: int, what: str) -> Population:
        """``num`` candidates, slot ``i`` drawn by ``draw(slots)`` again
        until it satisfies the constraint."""
        slots = np.arange(num)
        result = None
        for _ in range(self.max_draws):
            candidates = draw(slots)
            allowed = np.asarray(self.constraint(candidates), dtype=bool)
            result = candidates if result is None else result.replaced(
                slots, candidates)
            slots = slots[~allowed]
            if not len(slots):
                return result
        raise ConstraintError(
            f'{len(slots)} of {num} {what} still violate the constraints '
            f'after {self.max_draws} draws; the constraints may be too '
            f'tight for this search space')

    def initial_state(self,
                      seeds: Optional[Population] = None) -> EvolutionState:
        """A random population within the constraints; the candidates of
        ``seeds`` that satisfy them (e.g. the best subnets of tighter
        constraints in a sweep) take its first places."""
        population, rng_state = self.initial_population(seeds)
        return EvolutionState(
            population,
            np.asarray(self.score(population), dtype=np.float64),
            rng_state=rng_state)

    def initial_population(self, seeds: Optional[Population] = None):
        """The unscored initial population of :meth:`initial_state` and
        the random generator's state after drawing it."""
        rng = np.random.default_rng(self.seed)
        population = self._within_constraint(
            lambda slots: self.codec.random(len(slots), rng),
            self.population_size, 'random candidates')
        if seeds is not None and len(seeds):
            seeds = seeds[np.asarray(self.constraint(seeds), dtype=bool)]
            seeds = seeds[np.arange(min(len(seeds), self.population_size))]
            population = population.replaced(np.arange(len(seeds)), seeds)
        return population, rng.bit_generator.state

    def step(self, state: EvolutionState) -> EvolutionState:
        """One generation: parents, mutants and crossovers, scored."""
        rng = np.random.default_rng()
        rng.bit_generator.state = state.rng_state
        order = np.argsort(-state.scores, kind='stable')[:self.num_parents]
        parents, parent_scores = state.population[order], state.scores[order]
        mutant_parents = rng.integers(0, self.num_parents, self.num_mutants)
        mutants = self._within_constraint(
            lambda slots: self.codec.
            mutate(parents[mutant_parents[slots]], rng, self.arch_mutate_prob,
                   self.resolution_mutate_prob), self.num_mutants, 'mutants')
        num_cross = self.population_size - self.num_mutants

        def cross(slots):
            first = rng.integers(0, self.num_parents, len(slots))
            second = rng.integers(0, self.num_parents, len(slots))
            return self.codec.crossover(parents[first], parents[second], rng)

        crossovers = self._within_constraint(cross, num_cross, 'crossovers')
        children = Population.concatenate([mutants, crossovers])
        scores = np.concatenate([
            parent_scores,
            np.asarray(self.score(children), dtype=np.float64)
        ])
        population = Population.concatenate([parents, children])
        best = float(scores.max())
        return EvolutionState(population, scores, state.generation + 1,
                              state.best_history + [best],
                              rng.bit_generator.state)

    def run(
        self,
        generations: int,
        state: Optional[EvolutionState] = None,
        callback: Optional[Callable[[EvolutionState], None]] = None
    ) -> EvolutionState:
        """Evolve until ``generations`` generations are done, from ``state``
        (a resumed search) or a new random population; ``callback`` sees
        the state after every generation (progress, saving)."""
        if state is None:
            state = self.initial_state()
        while state.generation < generations:
            state = self.step(state)
            if callback is not None:
                callback(state)
        return state


def cost_constraint(tables: Dict[str, Callable],
                    limits: Dict[str, float]) -> Constraint:
    """A constraint from cost tables: ``table(population) <= limit`` for
    every named limit (``flops``, ``params``, ``latency``)."""
    unknown = set(limits) - set(tables)
    if unknown:
        raise KeyError(f'constraints on {sorted(unknown)}: no such cost; '
                       f'allowed: {sorted(tables)}')

    def allowed(population: Population) -> np.ndarray:
        mask = np.ones(len(population), dtype=bool)
        for name, limit in limits.items():
            mask &= tables[name](population) <= limit
        return mask

    return allowed
