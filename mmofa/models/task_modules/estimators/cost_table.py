"""Vectorised costs of whole populations of subnets.

MACs, parameters and table-based latency of an OFA MobileNetV3 subnet are
all a fixed part plus one entry per active block, each entry depending on
the block's kernel size and expand ratio. :class:`BlockCostTable` stores
those entries as arrays per resolution, so that the cost of ``N`` subnets
is one gather and one sum.
"""
from typing import Callable, Dict, Tuple

import numpy as np

from mmofa.structures import MobileNetV3Population, MobileNetV3PopulationCodec

# Units of each cost as it appears in constraints and reports.
COST_UNITS = {'flops': 'MFLOPs', 'params': 'M params', 'latency': 'ms'}


class BlockCostTable:
    """``fixed[r] + sum(block[r, b, kernel_b, expand_b])`` over active
    blocks ``b``, for every resolution ``r`` of ``codec``.

    Args:
        codec (MobileNetV3PopulationCodec): The populations it prices.
        fixed (np.ndarray): ``[R]`` cost outside the elastic blocks.
        blocks (np.ndarray): ``[R, num_blocks, max kernels, max expands]``.
        name (str): The cost's name in messages (``flops``, ``latency``).
    """

    def __init__(self, codec: MobileNetV3PopulationCodec, fixed: np.ndarray,
                 blocks: np.ndarray, name: str):
        num_res = len(codec.resolutions)
        if fixed.shape != (num_res, ) or blocks.shape[:2] != (
                num_res, codec.num_blocks):
            raise ValueError(
                f'{name} table shapes {fixed.shape} / {blocks.shape} do not '
                f'fit {num_res} resolutions and {codec.num_blocks} blocks')
        self.codec = codec
        self.fixed = fixed.astype(np.float64)
        self.blocks = blocks.astype(np.float64)
        self.name = name

    @classmethod
    def from_entries(cls,
                     codec: MobileNetV3PopulationCodec,
                     name: str,
                     entries: Callable[[int], Tuple[float, Dict]],
                     unit: float = 1.0) -> 'BlockCostTable':
        """Build from ``entries(resolution) -> (fixed, {(stage, block, k,
        e): cost})``, the form of
        :meth:`MobileNetV3ResourceEstimator.tables`, every cost divided by
        ``unit``."""
        space = codec.space
        num_k = max(codec.num_kernels)
        num_e = max(codec.num_expands)
        fixed = np.zeros(len(codec.resolutions))
        blocks = np.zeros(
            (len(codec.resolutions), codec.num_blocks, num_k, num_e))
        for r, resolution in enumerate(codec.resolutions):
            fixed[r], table = entries(resolution)
            for b, (s, position) in enumerate(
                    zip(codec.block_stage, codec.block_position)):
                for i, k in enumerate(space.kernel_sizes[s]):
                    for j, e in enumerate(space.expand_ratios[s]):
                        blocks[r, b, i, j] = table[(s, position, k, e)]
        return cls(codec, fixed / unit, blocks / unit, name)

    @classmethod
    def flops(cls, estimator,
              codec: MobileNetV3PopulationCodec) -> 'BlockCostTable':
        """MFLOPs (multiply-accumulates / 1e6, as Once-for-All counts)."""
        return cls.from_entries(codec, 'flops',
                                lambda r: estimator.tables(r, 'macs'), 1e6)

    @classmethod
    def params(cls, estimator,
               codec: MobileNetV3PopulationCodec) -> 'BlockCostTable':
        """Millions of parameters (the same at every resolution)."""
        params = estimator.tables(224, 'params')
        return cls.from_entries(codec, 'params', lambda r: params, 1e6)

    def __call__(self, population: MobileNetV3Population) -> np.ndarray:
        """``[N]`` costs."""
        res = population.resolution
        blocks = np.arange(self.codec.num_blocks)
        entries = self.blocks[res[:, None], blocks[None, :], population.kernel,
                              population.expand]
        active = self.codec.active(population)
        return self.fixed[res] + (entries * active).sum(1)
