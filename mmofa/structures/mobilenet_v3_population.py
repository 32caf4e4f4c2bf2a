"""Many OFA MobileNetV3 subnets at once, as arrays of choice indices.

Search works on populations of thousands of (subnet, resolution) pairs per
second; dataclasses and Python loops per candidate would dominate. Here a
population is four integer arrays of indices into the candidate lists, and
everything a search does to it (random draws, mutation, crossover, the
official one-hot encoding, costs from tables) is a vectorised numpy
operation.

Every elastic block has a gene (kernel size and expand ratio), also blocks
beyond their stage's depth, as in the official evolution: a block skipped
now keeps its genes and may become active after a depth mutation.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from .mobilenet_v3_subnet import (MobileNetV3SearchSpace, MobileNetV3Subnet,
                                  SubnetError)


@dataclass
class MobileNetV3Population:
    """``N`` subnets with resolutions, as choice indices.

    Attributes:
        kernel (np.ndarray): ``[N, num_blocks]`` indices into the kernel
            sizes of each block's stage.
        expand (np.ndarray): ``[N, num_blocks]`` indices into the expand
            ratios of each block's stage.
        depth (np.ndarray): ``[N, num_stages]`` indices into each stage's
            depths.
        resolution (np.ndarray): ``[N]`` indices into the codec's
            resolutions.
    """
    kernel: np.ndarray
    expand: np.ndarray
    depth: np.ndarray
    resolution: np.ndarray

    def __len__(self) -> int:
        return len(self.resolution)

    def __getitem__(self, index) -> 'MobileNetV3Population':
        """Rows selected by an index array, a boolean mask or a slice."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        return MobileNetV3Population(self.kernel[index], self.expand[index],
                                     self.depth[index], self.resolution[index])

    @staticmethod
    def concatenate(populations: Sequence['MobileNetV3Population']
                    ) -> 'MobileNetV3Population':
        return MobileNetV3Population(
            *(np.concatenate([getattr(p, name) for p in populations])
              for name in ('kernel', 'expand', 'depth', 'resolution')))


class MobileNetV3PopulationCodec:
    """Conversions and evolution operators of populations of one space.

    Args:
        space (MobileNetV3SearchSpace): The supernet's search space.
        resolutions (Sequence[int]): Candidate input sizes.
        couplings (Sequence[dict]): The mutator's couplings (CompOFA's
            ``(depth, expand_ratio)`` pairs): every population drawn, mutated
            or crossed over is put back into the coupled space, each stage's
            expand ratios following its depth.
    """

    def __init__(self,
                 space: MobileNetV3SearchSpace,
                 resolutions: Sequence[int],
                 couplings: Sequence[dict] = ()):
        if not resolutions:
            raise ValueError('resolutions must not be empty')
        self.space = space
        self.resolutions = tuple(int(r) for r in resolutions)
        self.num_blocks = space.num_blocks
        self.block_stage = np.repeat(
            np.arange(space.num_stages), space.max_depths)
        self.block_position = np.concatenate(
            [np.arange(d) for d in space.max_depths])
        # Candidates per block / stage; their counts bound random indices.
        self.num_kernels = np.array(
            [len(space.kernel_sizes[s]) for s in self.block_stage])
        self.num_expands = np.array(
            [len(space.expand_ratios[s]) for s in self.block_stage])
        self.num_depths = np.array([len(d) for d in space.depths])
        self.depth_values = _padded(space.depths)
        # One-hot layout of the official encoder: resolutions, then the
        # kernel slots of every block, then the expand slots of every block.
        kernel_offsets = len(self.resolutions) + np.concatenate(
            [[0], np.cumsum(self.num_kernels)[:-1]])
        expand_offsets = kernel_offsets[-1] + self.num_kernels[-1] + \
            np.concatenate([[0], np.cumsum(self.num_expands)[:-1]])
        self._kernel_offsets = kernel_offsets
        self._expand_offsets = expand_offsets
        self.encoding_size = int(expand_offsets[-1] + self.num_expands[-1])
        self._coupled_expand = _coupled_expand_indices(space, couplings)

    # ------------------------------------------------------------ sampling
    def random(self, num: int,
               rng: np.random.Generator) -> MobileNetV3Population:
        """``num`` uniform draws (every choice independent, as the
        official ``random_sample_arch``)."""
        return self.couple(
            MobileNetV3Population(
                _uniform(rng, self.num_kernels, num),
                _uniform(rng, self.num_expands, num),
                _uniform(rng, self.num_depths, num),
                rng.integers(0, len(self.resolutions), num)))

    def couple(self,
               population: MobileNetV3Population) -> MobileNetV3Population:
        """``population`` in the coupled space: each block's expand ratio
        the one its stage's depth is coupled with (without couplings: as
        it is)."""
        if self._coupled_expand is None:
            return population
        expand = self._coupled_expand[self.block_stage[None, :],
                                      population.depth[:, self.block_stage]]
        return MobileNetV3Population(population.kernel, expand,
                                     population.depth, population.resolution)

    def mutate(self, population: MobileNetV3Population,
               rng: np.random.Generator, arch_prob: float,
               resolution_prob: float) -> MobileNetV3Population:
        """Official mutation: the resolution with ``resolution_prob``; each
        block's (kernel, expand) pair and each stage's depth with
        ``arch_prob``, redrawn uniformly."""
        n = len(population)
        fresh = self.random(n, rng)
        block = rng.random((n, self.num_blocks)) < arch_prob
        stage = rng.random((n, self.space.num_stages)) < arch_prob
        res = rng.random(n) < resolution_prob
        return self.couple(
            MobileNetV3Population(
                np.where(block, fresh.kernel, population.kernel),
                np.where(block, fresh.expand, population.expand),
                np.where(stage, fresh.depth, population.depth),
                np.where(res, fresh.resolution, population.resolution)))

    def crossover(self, first: MobileNetV3Population,
                  second: MobileNetV3Population,
                  rng: np.random.Generator) -> MobileNetV3Population:
        """Official crossover: every gene from either parent with equal
        probability."""

        def pick(a, b):
            return np.where(rng.random(a.shape) < 0.5, a, b)

        return self.couple(
            MobileNetV3Population(
                pick(first.kernel, second.kernel),
                pick(first.expand, second.expand),
                pick(first.depth, second.depth),
                pick(first.resolution, second.resolution)))

    # ------------------------------------------------------------ queries
    def active(self, population: MobileNetV3Population) -> np.ndarray:
        """``[N, num_blocks]``: whether each block runs."""
        depth = self.depth_values[np.arange(self.space.num_stages),
                                  population.depth]
        return self.block_position[None, :] < depth[:, self.block_stage]

    def resolution_values(self,
                          population: MobileNetV3Population) -> np.ndarray:
        return np.asarray(self.resolutions)[population.resolution]

    def encode(self, population: MobileNetV3Population) -> np.ndarray:
        """The official one-hot features ``[N, encoding_size]`` (float32):
        the resolution, then a kernel and an expand slot per active block;
        skipped blocks are all zeros."""
        n = len(population)
        features = np.zeros((n, self.encoding_size), dtype=np.float32)
        rows = np.arange(n)
        features[rows, population.resolution] = 1
        active = self.active(population)
        row, block = np.nonzero(active)
        features[row, self._kernel_offsets[block] +
                 population.kernel[row, block]] = 1
        features[row, self._expand_offsets[block] +
                 population.expand[row, block]] = 1
        return features

    def unique_keys(self, population: MobileNetV3Population) -> np.ndarray:
        """One bytes key per row that is equal iff the subnets (active
        blocks only) and resolutions are equal."""
        return np.array([row.tobytes() for row in self.encode(population)])

    # --------------------------------------------------------- conversion
    def to_subnets(self, population: MobileNetV3Population
                   ) -> List[MobileNetV3Subnet]:
        space = self.space
        subnets = []
        for i in range(len(population)):
            depth, kernel, expand = [], [], []
            start = 0
            for s, max_depth in enumerate(space.max_depths):
                d = space.depths[s][population.depth[i, s]]
                blocks = range(start, start + d)
                depth.append(d)
                kernel.append(
                    tuple(space.kernel_sizes[s][population.kernel[i, b]]
                          for b in blocks))
                expand.append(
                    tuple(space.expand_ratios[s][population.expand[i, b]]
                          for b in blocks))
                start += max_depth
            subnets.append(
                MobileNetV3Subnet(
                    tuple(depth), tuple(kernel), tuple(expand),
                    self.resolutions[population.resolution[i]]))
        return subnets

    def from_subnets(self,
                     subnets: Sequence[MobileNetV3Subnet],
                     default_resolution: Optional[int] = None
                     ) -> MobileNetV3Population:
        """Index arrays of checked subnets; skipped blocks get index 0.
        A subnet without a resolution takes ``default_resolution``."""
        space = self.space
        n = len(subnets)
        kernel = np.zeros((n, self.num_blocks), dtype=np.int64)
        expand = np.zeros((n, self.num_blocks), dtype=np.int64)
        depth = np.zeros((n, space.num_stages), dtype=np.int64)
        resolution = np.zeros(n, dtype=np.int64)
        for i, subnet in enumerate(subnets):
            size = subnet.resolution or default_resolution
            if size not in self.resolutions:
                raise SubnetError(
                    f'subnet {i}: resolution {size!r} is not a candidate; '
                    f'allowed: {list(self.resolutions)}')
            resolution[i] = self.resolutions.index(size)
            start = 0
            for s, max_depth in enumerate(space.max_depths):
                depth[i, s] = space.depths[s].index(subnet.depth[s])
                for b, (k, e) in enumerate(
                        zip(subnet.kernel_size[s], subnet.expand_ratio[s])):
                    kernel[i, start + b] = space.kernel_sizes[s].index(k)
                    expand[i, start + b] = space.expand_ratios[s].index(e)
                start += max_depth
        return MobileNetV3Population(kernel, expand, depth, resolution)


def _coupled_expand_indices(space: MobileNetV3SearchSpace,
                            couplings: Sequence[dict]) -> Optional[np.ndarray]:
    """``[num_stages, max depths]``: the expand index each depth index is
    coupled with; None without couplings."""
    if not couplings:
        return None
    if len(couplings) > 1 or set(
            couplings[0]['dims']) != {'depth', 'expand_ratio'}:
        raise NotImplementedError(
            'populations couple depth with expand_ratio only, got '
            f'{[list(c["dims"]) for c in couplings]}')
    dims, expand_of_depth = couplings[0]['dims'], {}
    for choice in couplings[0]['choices']:
        depth, expand = (
            choice[dims.index(d)] for d in ('depth', 'expand_ratio'))
        if expand_of_depth.setdefault(depth, expand) != expand:
            raise NotImplementedError(
                f'populations need one expand ratio per depth; depth {depth} '
                f'is coupled with {expand_of_depth[depth]} and {expand}')
    table = np.zeros((space.num_stages, max(map(len, space.depths))),
                     dtype=np.int64)
    for s, depths in enumerate(space.depths):
        for i, depth in enumerate(depths):
            if depth not in expand_of_depth:
                raise NotImplementedError(
                    f'stage {s}: depth {depth} is coupled with no expand '
                    f'ratio ({expand_of_depth})')
            table[s, i] = space.expand_ratios[s].index(expand_of_depth[depth])
    return table


def _uniform(rng: np.random.Generator, counts: np.ndarray,
             num: int) -> np.ndarray:
    """``[num, len(counts)]`` integers, column j uniform in [0, counts[j])."""
    return (rng.random((num, len(counts))) * counts).astype(np.int64)


def _padded(rows: Sequence[Sequence[int]]) -> np.ndarray:
    width = max(len(r) for r in rows)
    return np.array([list(r) + [r[-1]] * (width - len(r)) for r in rows])
