"""Many subnets at once, as arrays of choice indices: what every family's
population codec shares.

Search works on populations of thousands of (subnet, resolution) pairs per
second; dataclasses and Python loops per candidate would dominate. A
population is a few integer arrays ("genes", each ``[N, columns]``) of
indices into candidate lists, plus the resolution index ``[N]``; random
draws, mutation and crossover are vectorised numpy operations on them,
the same for every family. A family's codec (one subclass of
:class:`PopulationCodec`) says what the genes are, how they become subnets
and back, the predictor's encoding, and which "slots" (fixed parts and
blocks) carry costs, so that FLOPs, parameters and table latency of ``N``
subnets are one gather and one sum
(:class:`~mmofa.models.task_modules.SlotCostTable`).
"""
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .subnet_base import SubnetError


class Population:
    """``N`` candidates as gene arrays of choice indices.

    Args:
        genes (Mapping[str, np.ndarray]): Gene name -> ``[N, columns]``
            indices, in the codec's gene order.
        resolution (np.ndarray): ``[N]`` indices into the codec's
            resolutions.

    Genes are also attributes: ``population.kernel``.
    """

    def __init__(self, genes: Mapping[str, np.ndarray],
                 resolution: np.ndarray):
        self.genes = {
            k: np.asarray(v, dtype=np.int64)
            for k, v in genes.items()
        }
        self.resolution = np.asarray(resolution, dtype=np.int64)

    def __getattr__(self, name: str) -> np.ndarray:
        genes = self.__dict__.get('genes', {})
        if name in genes:
            return genes[name]
        raise AttributeError(f'a population has no gene {name!r}; genes: '
                             f'{list(genes)}')

    def __len__(self) -> int:
        return len(self.resolution)

    def __getitem__(self, index) -> 'Population':
        """Rows selected by an index array, a boolean mask or a slice."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        return Population({
            k: v[index]
            for k, v in self.genes.items()
        }, self.resolution[index])

    def __eq__(self, other) -> bool:
        return isinstance(other, Population) and list(self.genes) == list(
            other.genes) and all(
                np.array_equal(v, other.genes[k])
                for k, v in self.genes.items()) and np.array_equal(
                    self.resolution, other.resolution)

    def replaced(self, rows: np.ndarray, values: 'Population') -> 'Population':
        """A copy with rows ``rows`` replaced by ``values``."""
        genes = {k: v.copy() for k, v in self.genes.items()}
        resolution = self.resolution.copy()
        for name in genes:
            genes[name][rows] = values.genes[name]
        resolution[rows] = values.resolution
        return Population(genes, resolution)

    @staticmethod
    def concatenate(populations: Sequence['Population']) -> 'Population':
        names = list(populations[0].genes)
        return Population(
            {
                n: np.concatenate([p.genes[n] for p in populations])
                for n in names
            }, np.concatenate([p.resolution for p in populations]))

    def to_dict(self) -> dict:
        """Lists (JSON), genes at the top level beside ``resolution``."""
        data = {k: v.tolist() for k, v in self.genes.items()}
        data['resolution'] = self.resolution.tolist()
        return data

    @classmethod
    def from_dict(cls, data: Mapping,
                  gene_names: Sequence[str]) -> 'Population':
        missing = [n for n in [*gene_names, 'resolution'] if n not in data]
        if missing:
            raise KeyError(f'a saved population lacks genes {missing}; it '
                           'was saved for another search space')
        return cls({n: data[n] for n in gene_names}, data['resolution'])


class PopulationCodec:
    """The vectorised operators of populations of one search space.

    The base sets what every family has (the resolutions, the space, its
    blocks stage after stage) and calls :meth:`build`, where a family
    declares its genes (:meth:`set_genes`), encoding size and cost slots.
    A family implements its parts: :meth:`to_subnets`,
    :meth:`from_subnets`, :meth:`encode` (the predictor's features),
    :meth:`active` (which blocks run), and the cost slots
    (:meth:`slot_indices`, :attr:`slot_sizes`, :meth:`slot_costs`).

    Random draws, mutation and crossover follow Once-for-All's evolution:
    every gene column uniform and independent; a mutation redraws each
    *unit* (a column of a mutation group: e.g. a block's kernel and expand
    genes together) with ``arch_prob`` and the resolution with
    ``resolution_prob``; a crossover takes each gene from either parent.

    Args:
        space: The supernet's search space (with ``max_depths``).
        resolutions (Sequence[int]): Candidate input sizes.
        couplings (Sequence[dict]): The mutator's couplings; only a family
            whose ``takes_couplings`` is True (MobileNetV3: CompOFA's)
            accepts any.
    """
    #: Whether :meth:`build` handles the mutator's couplings.
    takes_couplings = False
    #: The family's name in messages.
    family = 'this family'

    def __init__(self,
                 space,
                 resolutions: Sequence[int],
                 couplings: Sequence[dict] = ()):
        if not resolutions:
            raise ValueError('resolutions must not be empty')
        if couplings and not self.takes_couplings:
            raise NotImplementedError(f'{self.family} populations take no '
                                      f'couplings, got {list(couplings)}')
        self.resolutions = tuple(int(r) for r in resolutions)
        self.space = space
        self.gene_counts: Dict[str, np.ndarray] = {}
        self.gene_groups: Dict[str, str] = {}
        self.group_sizes: Dict[str, int] = {}
        # The supernet's blocks, stage after stage: the stage and the
        # position in it of each.
        self.num_blocks = int(sum(space.max_depths))
        self.block_stage = np.repeat(
            np.arange(len(space.max_depths)), space.max_depths)
        self.block_position = np.concatenate(
            [np.arange(d) for d in space.max_depths])
        #: The index of each stage's first block.
        self.stage_start = np.concatenate([[0],
                                           np.cumsum(space.max_depths)[:-1]
                                           ]).astype(np.int64)
        self.build(couplings)

    def build(self, couplings: Sequence[dict]) -> None:
        """Declare the genes, the encoding size and the cost slots."""
        raise NotImplementedError

    def set_genes(self, genes: Sequence[Tuple[str, Sequence[int], str]]):
        """Declare the genes, in order: ``(name, candidates per column,
        mutation group)``; genes of one group have as many columns and
        mutate together column by column."""
        for name, counts, group in genes:
            counts = np.asarray(counts, dtype=np.int64)
            if group in self.group_sizes and \
                    self.group_sizes[group] != len(counts):
                raise ValueError(f'gene {name!r}: mutation group {group!r} '
                                 f'has {self.group_sizes[group]} columns, '
                                 f'not {len(counts)}')
            self.gene_counts[name] = counts
            self.gene_groups[name] = group
            self.group_sizes.setdefault(group, len(counts))

    @property
    def gene_names(self) -> List[str]:
        return list(self.gene_counts)

    # ------------------------------------------------------------ sampling
    def couple(self, population: Population) -> Population:
        """``population`` made valid where choices are tied (CompOFA's
        couplings); as it is by default."""
        return population

    def random(self, num: int, rng: np.random.Generator) -> Population:
        """``num`` uniform draws (every choice independent, as the official
        ``random_sample_arch``)."""
        genes = {n: _uniform(rng, c, num) for n, c in self.gene_counts.items()}
        return self.couple(
            Population(genes, rng.integers(0, len(self.resolutions), num)))

    def mutate(self, population: Population, rng: np.random.Generator,
               arch_prob: float, resolution_prob: float) -> Population:
        """Official mutation: each unit of every mutation group redrawn with
        ``arch_prob`` (uniformly), the resolution with ``resolution_prob``."""
        n = len(population)
        fresh = self.random(n, rng)
        masks = {
            g: rng.random((n, size)) < arch_prob
            for g, size in self.group_sizes.items()
        }
        res = rng.random(n) < resolution_prob
        genes = {
            name:
            np.where(masks[self.gene_groups[name]], fresh.genes[name],
                     population.genes[name])
            for name in self.gene_counts
        }
        return self.couple(
            Population(genes,
                       np.where(res, fresh.resolution, population.resolution)))

    def crossover(self, first: Population, second: Population,
                  rng: np.random.Generator) -> Population:
        """Official crossover: every gene from either parent with equal
        probability."""

        def pick(a, b):
            return np.where(rng.random(a.shape) < 0.5, a, b)

        genes = {
            n: pick(first.genes[n], second.genes[n])
            for n in self.gene_counts
        }
        return self.couple(
            Population(genes, pick(first.resolution, second.resolution)))

    # ------------------------------------------------------------ queries
    def resolution_values(self, population: Population) -> np.ndarray:
        return np.asarray(self.resolutions)[population.resolution]

    def unique_keys(self, population: Population) -> np.ndarray:
        """One bytes key per row, equal iff the subnets (what runs) and the
        resolutions are equal: the rows of :meth:`encode`."""
        return np.array([row.tobytes() for row in self.encode(population)])

    def resolution_index(self, size: Optional[int], which: int) -> int:
        if size not in self.resolutions:
            raise SubnetError(
                f'subnet {which}: resolution {size!r} is not a candidate; '
                f'allowed: {list(self.resolutions)}')
        return self.resolutions.index(size)

    # ------------------------------------------- the family's parts
    encoding_size: int = 0

    def encode(self, population: Population) -> np.ndarray:
        """The accuracy predictor's features ``[N, encoding_size]``."""
        raise NotImplementedError

    def to_subnets(self, population: Population) -> list:
        raise NotImplementedError

    def from_subnets(self,
                     subnets: Sequence,
                     default_resolution: Optional[int] = None) -> Population:
        """Index arrays of checked subnets (the family's
        :meth:`subnet_genes`); skipped blocks get index 0. A subnet without
        a resolution takes ``default_resolution``."""
        n = len(subnets)
        genes = {
            name: np.zeros((n, len(counts)), dtype=np.int64)
            for name, counts in self.gene_counts.items()
        }
        resolution = np.zeros(n, dtype=np.int64)
        for i, subnet in enumerate(subnets):
            resolution[i] = self.resolution_index(
                subnet.resolution or default_resolution, i)
            self.subnet_genes(subnet, {k: v[i] for k, v in genes.items()})
        return Population(genes, resolution)

    def subnet_genes(self, subnet, genes: Dict[str, np.ndarray]) -> None:
        """Write ``subnet``'s choice indices into its rows ``genes``
        (zeros)."""
        raise NotImplementedError

    #: Choices of each cost slot: ``slot_sizes[i]`` combinations.
    slot_sizes: Tuple[int, ...] = ()

    def slot_indices(self, population: Population) -> np.ndarray:
        """``[N, slots]``: the combination index of each cost slot (a
        block, the stem, the head) in each row, -1 where the slot does not
        run (see :class:`~mmofa.models.task_modules.SlotCostTable`)."""
        raise NotImplementedError

    def slot_costs(self, estimator, resolution: int,
                   kind: str) -> Tuple[float, List[np.ndarray]]:
        """``(fixed, [per slot: the cost of each combination])`` of
        ``kind`` (``'macs'`` or ``'params'``) at ``resolution``, from the
        family's resource estimator."""
        raise NotImplementedError


def _uniform(rng: np.random.Generator, counts: np.ndarray,
             num: int) -> np.ndarray:
    """``[num, len(counts)]`` integers, column j uniform in [0, counts[j])."""
    return (rng.random((num, len(counts))) * counts).astype(np.int64)


def padded(rows: Sequence[Sequence], fill=None) -> np.ndarray:
    """Ragged rows as one array, each padded with its last value (or
    ``fill``)."""
    width = max(len(r) for r in rows)
    return np.array([
        list(r) + [r[-1] if fill is None else fill] * (width - len(r))
        for r in rows
    ])
