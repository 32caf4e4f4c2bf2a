"""Many OFA MobileNetV3 subnets at once, as arrays of choice indices.

Search works on populations of thousands of (subnet, resolution) pairs per
second; dataclasses and Python loops per candidate would dominate. Here a
population is four integer arrays of indices into the candidate lists, and
everything a search does to it (random draws, mutation, crossover, the
official one-hot encoding, costs from tables) is a vectorised numpy
operation.

Every elastic block has a gene (kernel size and expand ratio), also blocks
beyond their stage's depth, as in the official evolution: a block skipped
now keeps its genes and may become active after a depth mutation. The
operators every family shares are in :mod:`mmofa.structures.population`.
"""
from typing import List, Optional, Sequence

import numpy as np

from .mobilenet_v3_subnet import MobileNetV3SearchSpace, MobileNetV3Subnet
from .population import Population, PopulationCodec, padded

#: The populations of every family are :class:`Population` objects; this
#: name says which genes they hold (``kernel``, ``expand`` ``[N, blocks]``,
#: ``depth`` ``[N, stages]``).
MobileNetV3Population = Population


class MobileNetV3PopulationCodec(PopulationCodec):
    """Populations of an OFA MobileNetV3 space (also CompOFA's).

    Genes: ``kernel`` and ``expand`` ``[N, num_blocks]`` (indices into the
    kernel sizes / expand ratios of each block's stage; a block's pair
    mutates together), ``depth`` ``[N, num_stages]``. The encoding is the
    official ``MobileNetArchEncoder``'s one-hot code; the cost slots are the
    blocks, a slot's combination its (kernel, expand) pair.

    Built as :class:`PopulationCodec`; its ``couplings`` are CompOFA's
    ``(depth, expand_ratio)`` pairs: every population drawn, mutated or
    crossed over is put back into the coupled space, each stage's expand
    ratios following its depth.
    """

    takes_couplings = True
    family = 'OFA MobileNetV3'

    def build(self, couplings: Sequence[dict]) -> None:
        space = self.space
        # Candidates per block / stage; their counts bound random indices.
        self.num_kernels = np.array(
            [len(space.kernel_sizes[s]) for s in self.block_stage])
        self.num_expands = np.array(
            [len(space.expand_ratios[s]) for s in self.block_stage])
        self.num_depths = np.array([len(d) for d in space.depths])
        self.set_genes([('kernel', self.num_kernels, 'block'),
                        ('expand', self.num_expands, 'block'),
                        ('depth', self.num_depths, 'stage')])
        self.depth_values = padded(space.depths)
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
        # Cost slots: one per block, its (kernel, expand) pair.
        self.max_expands = int(self.num_expands.max())
        self.slot_sizes = (int(self.num_kernels.max()) *
                           self.max_expands, ) * self.num_blocks

    # ------------------------------------------------------------ sampling
    def couple(self, population: Population) -> Population:
        """``population`` in the coupled space: each block's expand ratio
        the one its stage's depth is coupled with (without couplings: as
        it is)."""
        if self._coupled_expand is None:
            return population
        expand = self._coupled_expand[self.block_stage[None, :],
                                      population.depth[:, self.block_stage]]
        return Population(
            dict(population.genes, expand=expand), population.resolution)

    # ------------------------------------------------------------ queries
    def active(self, population: MobileNetV3Population) -> np.ndarray:
        """``[N, num_blocks]``: whether each block runs."""
        depth = self.depth_values[np.arange(self.space.num_stages),
                                  population.depth]
        return self.block_position[None, :] < depth[:, self.block_stage]

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

    # --------------------------------------------------------- conversion
    def to_subnets(self, population: Population) -> List[MobileNetV3Subnet]:
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

    def subnet_genes(self, subnet: MobileNetV3Subnet, genes: dict) -> None:
        space = self.space
        for s, start in enumerate(self.stage_start):
            genes['depth'][s] = space.depths[s].index(subnet.depth[s])
            for b, (k, e) in enumerate(
                    zip(subnet.kernel_size[s], subnet.expand_ratio[s])):
                genes['kernel'][start + b] = space.kernel_sizes[s].index(k)
                genes['expand'][start + b] = space.expand_ratios[s].index(e)

    def slot_indices(self, population: Population) -> np.ndarray:
        """Each block's (kernel, expand) pair as one index, -1 if skipped."""
        index = population.kernel * self.max_expands + population.expand
        return np.where(self.active(population), index, -1)

    def slot_costs(self, estimator, resolution: int, kind: str):
        """From ``MobileNetV3ResourceEstimator.tables``: the stem and tail
        fixed, each block's cost per (kernel, expand) pair."""
        fixed, table = estimator.tables(resolution, kind)
        space, slots = self.space, []
        for s, position in zip(self.block_stage, self.block_position):
            costs = np.zeros(self.slot_sizes[0])
            for i, k in enumerate(space.kernel_sizes[s]):
                for j, e in enumerate(space.expand_ratios[s]):
                    costs[i * self.max_expands + j] = table[(s, position, k,
                                                             e)]
            slots.append(costs)
        return fixed, slots


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
