"""Vectorised costs of whole populations of subnets, for every family.

MACs, parameters and table-based latency of a subnet add up over its parts:
a fixed part plus one entry per running slot (a block, the stem, the
head), each entry depending on the choices of that slot (a MobileNetV3
block's kernel size and expand ratio, a ResNet block's input, middle and
output widths). :class:`SlotCostTable` stores those entries as arrays per
resolution, so that the cost of ``N`` subnets is one gather and one sum.
"""
from typing import Callable, Sequence, Tuple

import numpy as np

from mmofa.structures.population import Population, PopulationCodec

# Units of each cost as it appears in constraints and reports.
COST_UNITS = {'flops': 'MFLOPs', 'params': 'M params', 'latency': 'ms'}

Entries = Callable[[int], Tuple[float, Sequence[np.ndarray]]]


class SlotCostTable:
    """``fixed[r] + sum(entries[r][slot][index])`` over the running slots of
    each row: the cost of ``N`` subnets as one gather and one sum.

    A cost that adds up over the parts of a network (MACs, parameters,
    table latency) has an entry per slot (block, stem, head) and
    combination of the choices it depends on (a codec's
    :meth:`PopulationCodec.slot_indices`), per resolution.

    Args:
        codec (PopulationCodec): The populations it prices.
        fixed (np.ndarray): ``[R]`` cost of what no choice changes.
        entries (np.ndarray): ``[R, slots, max combinations]`` (NaN-free;
            unused combinations 0).
        name (str): The cost's name in messages (``flops``, ``latency``).
    """

    def __init__(self, codec: PopulationCodec, fixed: np.ndarray,
                 entries: np.ndarray, name: str):
        num_res = len(codec.resolutions)
        width = max(codec.slot_sizes) if codec.slot_sizes else 0
        expected = (num_res, len(codec.slot_sizes), width)
        if fixed.shape != (num_res, ) or entries.shape != expected:
            raise ValueError(f'{name} table shapes {fixed.shape} / '
                             f'{entries.shape} do not fit {num_res} '
                             f'resolutions and slots {codec.slot_sizes}')
        self.codec = codec
        self.fixed = fixed.astype(np.float64)
        self.entries = entries.astype(np.float64)
        self.name = name

    @classmethod
    def flops(cls, estimator, codec: PopulationCodec) -> 'SlotCostTable':
        """MFLOPs (multiply-accumulates / 1e6, as Once-for-All counts)."""
        return cls.build(codec, 'flops',
                         lambda r: codec.slot_costs(estimator, r, 'macs'), 1e6)

    @classmethod
    def params(cls, estimator, codec: PopulationCodec) -> 'SlotCostTable':
        """Millions of parameters (the same at every resolution)."""
        params = codec.slot_costs(estimator, 224, 'params')
        return cls.build(codec, 'params', lambda r: params, 1e6)

    @classmethod
    def build(cls,
              codec: PopulationCodec,
              name: str,
              entries: Entries,
              unit: float = 1.0) -> 'SlotCostTable':
        """From ``entries(resolution) -> (fixed, [per slot: costs of its
        combinations])``, every cost divided by ``unit``."""
        width = max(codec.slot_sizes) if codec.slot_sizes else 0
        fixed = np.zeros(len(codec.resolutions))
        table = np.zeros(
            (len(codec.resolutions), len(codec.slot_sizes), width))
        for r, resolution in enumerate(codec.resolutions):
            fixed[r], per_slot = entries(resolution)
            for slot, costs in enumerate(per_slot):
                costs = np.asarray(costs, dtype=np.float64).ravel()
                if len(costs) != codec.slot_sizes[slot]:
                    raise ValueError(
                        f'{name}: slot {slot} has {codec.slot_sizes[slot]} '
                        f'combinations, {len(costs)} costs given')
                table[r, slot, :len(costs)] = costs
        return cls(codec, fixed / unit, table / unit, name)

    def __call__(self, population: Population) -> np.ndarray:
        """``[N]`` costs."""
        res = population.resolution
        index = self.codec.slot_indices(population)
        slots = np.arange(index.shape[1])
        running = index >= 0
        values = self.entries[res[:, None], slots[None, :],
                              np.where(running, index, 0)]
        return self.fixed[res] + (values * running).sum(1)
