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

Two changes to the official algorithm, on by default (``novel_children``,
``restart_after``; both off is the official algorithm), make a search of
the same size end higher and closer to the same result from any seed
(benchmarks/bench_search.py):

* every child is a candidate the search has not scored before (drawn
  again otherwise, as an over-limit one is), so no evaluation is spent
  twice and the parents stay distinct;
* after ``restart_after`` generations without a better best, the search
  starts again from a new random population (of unseen candidates), the
  best so far kept aside: a population that has converged explores
  another region instead of its own again.
"""
import copy
from dataclasses import dataclass, field, fields
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from mmofa.structures.population import Population, PopulationCodec

Score = Callable[[Population], np.ndarray]
Constraint = Callable[[Population], np.ndarray]
# Rejection rounds in which a child must also be unseen; after them any
# child within the constraints is taken (a small space may have no unseen
# candidate left).
NOVEL_DRAWS = 50
# Rejection rounds after which a crossover that must be unseen is mutated
# too.
MUTATED_CROSSOVERS_AFTER = 1
# Candidates drawn per open slot and round when children must be unseen.
DRAWS_PER_SLOT = 3


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
    #: Hashes of every candidate scored (:func:`population_hashes`), for
    #: novel children. One set grows through the states of a run: save a
    #: state (:meth:`to_dict`) when it comes, not after later generations.
    seen: Set[int] = field(default_factory=set)
    #: Generations since the best last improved.
    stagnant: int = 0
    #: The best candidate of the populations before the last restart
    #: (``Population.to_dict()``) and its score.
    elite: Optional[dict] = None
    elite_score: Optional[float] = None

    def best(self) -> int:
        """Index of the best candidate of the population."""
        return int(np.argmax(self.scores))

    def leader(self, gene_names: Sequence[str]) -> Tuple[Population, float]:
        """The best candidate so far (one row) and its score: the
        population's best, or the elite kept aside at a restart if
        better."""
        best = self.best()
        if self.elite is not None and self.elite_score > self.scores[best]:
            return Population.from_dict(self.elite,
                                        gene_names), self.elite_score
        return self.population[best], float(self.scores[best])

    def to_dict(self) -> dict:
        data = self.population.to_dict()
        for item in fields(self)[1:]:
            value = getattr(self, item.name)
            if isinstance(value, np.ndarray):
                value = value.tolist()
            elif isinstance(value, set):
                value = sorted(value)
            data[item.name] = copy.deepcopy(value)
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
        values['seen'] = set(values.get('seen', ()))
        return cls(Population.from_dict(data, gene_names), **values)


class EvolutionSearch:
    """Evolutionary search under constraints (Once-for-All's, with novel
    children and restarts unless switched off).

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
        novel_children (bool): Children are candidates not scored before
            in this search. Defaults to True (False: the official
            algorithm, which may score a candidate many times).
        restart_after (int, optional): Generations without a better best
            before the population restarts from random candidates (the
            best so far kept aside and returned). Defaults to 100; None
            never restarts (the official algorithm).
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
                 max_draws: int = 1000,
                 novel_children: bool = True,
                 restart_after: Optional[int] = 100):
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
        self.novel_children = bool(novel_children)
        if restart_after is not None and int(restart_after) < 1:
            raise ValueError(f'restart_after = {restart_after!r} must be at '
                             'least 1, or None to never restart')
        self.restart_after = restart_after

    # ------------------------------------------------------------ drawing
    def _within_constraint(self,
                           draw: Callable[[np.ndarray], Population],
                           num: int,
                           what: str,
                           seen: Optional[Set[int]] = None) -> Population:
        """``num`` candidates, slot ``i`` drawn by ``draw(slots)`` again
        until it satisfies the constraint and, with ``seen`` (hashes,
        updated with the candidates taken), is not in ``seen`` nor taken
        twice (for :data:`NOVEL_DRAWS` rounds, then the constraint
        alone). With ``seen``, each round draws :data:`DRAWS_PER_SLOT`
        candidates per open slot and takes the first that qualifies."""
        slots = np.arange(num)
        copies = 1 if seen is None else DRAWS_PER_SLOT
        result = None
        for round_ in range(self.max_draws):
            rows = np.repeat(slots, copies)
            candidates = draw(rows)
            allowed = np.asarray(self.constraint(candidates), dtype=bool)
            if seen is None:
                taken = allowed
            else:
                taken = self._first_novel(candidates, rows, allowed, seen,
                                          round_ < NOVEL_DRAWS)
            if result is None:
                result = candidates[np.flatnonzero(
                    np.r_[True, rows[1:] != rows[:-1]])]
            result = result.replaced(rows[taken], candidates[taken])
            slots = np.setdiff1d(slots, rows[taken])
            if not len(slots):
                return result
        raise ConstraintError(
            f'{len(slots)} of {num} {what} still violate the constraints '
            f'after {self.max_draws} draws; the constraints may be too '
            f'tight for this search space')

    def _first_novel(self, candidates: Population, rows: np.ndarray,
                     allowed: np.ndarray, seen: Set[int],
                     novel: bool) -> np.ndarray:
        """Which candidates are taken: per slot (``rows``), the first
        allowed one that is not in ``seen`` (if ``novel``); added to
        ``seen``."""
        taken = np.zeros(len(rows), dtype=bool)
        filled = set()
        hashes = population_hashes(self.codec, candidates).tolist()
        for i in np.flatnonzero(allowed).tolist():
            slot, key = int(rows[i]), hashes[i]
            if slot in filled or (novel and key in seen):
                continue
            filled.add(slot)
            seen.add(key)
            taken[i] = True
        return taken

    def initial_state(self,
                      seeds: Optional[Population] = None) -> EvolutionState:
        """A random population within the constraints; the candidates of
        ``seeds`` that satisfy them (e.g. the best subnets of tighter
        constraints in a sweep) take its first places."""
        population, rng_state = self.initial_population(seeds)
        scores = np.asarray(self.score(population), dtype=np.float64)
        return EvolutionState(
            population,
            scores,
            rng_state=rng_state,
            seen=set(population_hashes(self.codec, population).tolist())
            if self.novel_children else set())

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
        """One generation: parents, mutants and crossovers, scored; or,
        after ``restart_after`` generations without progress, a new
        random population."""
        rng = np.random.default_rng()
        rng.bit_generator.state = state.rng_state
        seen = state.seen if self.novel_children else None
        best_so_far = max(state.best_history) if state.best_history else max(
            state.scores)
        if self.restart_after is not None and \
                state.stagnant >= self.restart_after:
            return self._restart(state, rng, seen, best_so_far)
        order = np.argsort(-state.scores, kind='stable')[:self.num_parents]
        parents, parent_scores = state.population[order], state.scores[order]
        mutant_parents = rng.integers(0, self.num_parents, self.num_mutants)
        mutants = self._within_constraint(
            lambda slots: self.codec.mutate(parents[mutant_parents[
                slots]], rng, self.arch_mutate_prob, self.
                                            resolution_mutate_prob),
            self.num_mutants, 'mutants', seen)
        num_cross = self.population_size - self.num_mutants

        rounds = [0]

        def cross(slots):
            first = rng.integers(0, self.num_parents, len(slots))
            second = rng.integers(0, self.num_parents, len(slots))
            children = self.codec.crossover(parents[first], parents[second],
                                            rng)
            rounds[0] += 1
            if seen is not None and rounds[0] > MUTATED_CROSSOVERS_AFTER:
                # Parents so alike that their crossovers were all seen:
                # mutated crossovers reach new candidates.
                children = self.codec.mutate(children, rng,
                                             self.arch_mutate_prob,
                                             self.resolution_mutate_prob)
            return children

        crossovers = self._within_constraint(cross, num_cross, 'crossovers',
                                             seen)
        children = Population.concatenate([mutants, crossovers])
        scores = np.concatenate([
            parent_scores,
            np.asarray(self.score(children), dtype=np.float64)
        ])
        population = Population.concatenate([parents, children])
        best = max(float(scores.max()), best_so_far)
        return EvolutionState(population, scores, state.generation + 1,
                              state.best_history + [best],
                              rng.bit_generator.state, state.seen,
                              0 if best > best_so_far else state.stagnant + 1,
                              state.elite, state.elite_score)

    def _restart(self, state: EvolutionState, rng: np.random.Generator,
                 seen: Optional[Set[int]],
                 best_so_far: float) -> EvolutionState:
        """A generation that replaces the population by new random
        candidates; the best so far is kept as the elite."""
        leader, score = state.leader(self.codec.gene_names)
        population = self._within_constraint(
            lambda slots: self.codec.random(len(slots), rng),
            self.population_size, 'random candidates', seen)
        scores = np.asarray(self.score(population), dtype=np.float64)
        best = max(float(scores.max()), best_so_far)
        return EvolutionState(population, scores, state.generation + 1,
                              state.best_history + [best],
                              rng.bit_generator.state, state.seen, 0,
                              leader.to_dict(), score)

    def finish(self, state: EvolutionState) -> EvolutionState:
        """``state`` with the elite (if better than the population's best)
        in place of the population's worst candidate, so that
        :meth:`EvolutionState.best` is the best candidate found."""
        if state.elite is None or state.elite_score <= state.scores.max():
            return state
        worst = np.array([int(np.argmin(state.scores))])
        scores = state.scores.copy()
        scores[worst] = state.elite_score
        elite = Population.from_dict(state.elite, self.codec.gene_names)
        return EvolutionState(
            state.population.replaced(worst, elite), scores, state.generation,
            state.best_history, state.rng_state, state.seen, state.stagnant,
            None, None)

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
        return self.finish(state)


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


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def population_hashes(codec: PopulationCodec,
                      population: Population) -> np.ndarray:
    """``[N]`` 64-bit hashes of the candidates: equal for equal subnets at
    equal resolutions (the rows of ``codec.encode``), different otherwise
    but for a 2**-64 chance per pair (splitmix64 of each word, summed)."""
    features = np.ascontiguousarray(codec.encode(population))
    width = features.shape[1] * features.itemsize
    raw = features.view(np.uint8).reshape(len(features), width)
    padded = np.zeros((len(features), -(-width // 8) * 8), dtype=np.uint8)
    padded[:, :width] = raw
    words = padded.view(np.uint64)
    with np.errstate(over='ignore'):
        x = words + _GOLDEN * np.arange(1, words.shape[1] + 1, dtype=np.uint64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
        return x.sum(1, dtype=np.uint64)
