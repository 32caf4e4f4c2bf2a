"""Populations of ResNet-48 subnets (the CVPR 2022 NAS track 1 space):
genes, a one-hot encoding for the accuracy predictor, cost slots."""
from typing import List, Sequence

import numpy as np

from .population import Population, PopulationCodec, padded
from .resnet48_subnet import ResNet48Subnet


class ResNet48PopulationCodec(PopulationCodec):
    """Populations of a ResNet-48 space.

    Genes (each column mutates on its own):

    * ``depth`` ``[N, stages]``: indices into each stage's depths;
    * ``out`` ``[N, stages]``: indices into the channel ratios, the output
      width of each stage's blocks (stage 0's also the stem's);
    * ``mid`` ``[N, blocks]``: indices into the channel ratios, the first
      conv of every block of the supernet (skipped ones keep theirs).

    Features: one-hot resolution, each stage's output ratio, and each
    active block's middle ratio (skipped blocks all zeros; the depth is in
    which blocks are set). Cost slots: the stem (its width), each block
    (input, middle and output width), the classifier (its input width).


    Built as :class:`PopulationCodec` (no couplings).
    """

    family = 'ResNet-48'

    def build(self, couplings: Sequence[dict]) -> None:
        space = self.space
        stages = space.num_stages
        num_r = len(space.channel_ratios)
        self.set_genes([
            ('depth', [len(d) for d in space.depths], 'depth'),
            ('out', [num_r] * stages, 'out'),
            ('mid', [num_r] * self.num_blocks, 'mid'),
        ])
        self.depth_values = padded(space.depths)
        self._num_r = num_r
        self._out_offset = len(self.resolutions)
        self._mid_offset = self._out_offset + stages * num_r
        self.encoding_size = self._mid_offset + self.num_blocks * num_r
        # A block's input: the previous stage's output for a stage's first
        # block (stage 0: the stem, which has stage 0's width), else its own
        # stage's output.
        first = self.block_position == 0
        self.block_in_stage = np.where(first & (self.block_stage > 0),
                                       self.block_stage - 1, self.block_stage)
        self.slot_sizes = (num_r, ) + (num_r**3, ) * self.num_blocks + (
            num_r, )

    # ------------------------------------------------------------ queries
    def active(self, population: Population) -> np.ndarray:
        """``[N, num_blocks]``: whether each block runs."""
        depth = self.depth_values[np.arange(self.space.num_stages),
                                  population.depth]
        return self.block_position[None, :] < depth[:, self.block_stage]

    def encode(self, population: Population) -> np.ndarray:
        n, num_r = len(population), self._num_r
        features = np.zeros((n, self.encoding_size), dtype=np.float32)
        rows = np.arange(n)
        features[rows, population.resolution] = 1
        for s in range(population.out.shape[1]):
            features[rows,
                     self._out_offset + s * num_r + population.out[:, s]] = 1
        row, block = np.nonzero(self.active(population))
        features[row, self._mid_offset + block * num_r +
                 population.mid[row, block]] = 1
        return features

    # --------------------------------------------------------- conversion
    def to_subnets(self, population: Population) -> List[ResNet48Subnet]:
        space, subnets = self.space, []
        ratios = space.channel_ratios
        for i in range(len(population)):
            depth = tuple(space.depths[s][d]
                          for s, d in enumerate(population.depth[i]))
            mids = tuple(
                tuple(ratios[population.mid[i, self.stage_start[s] + b]]
                      for b in range(depth[s])) for s in range(len(depth)))
            subnets.append(
                ResNet48Subnet(depth,
                               tuple(ratios[o] for o in population.out[i]),
                               mids,
                               self.resolutions[population.resolution[i]]))
        return subnets

    def subnet_genes(self, subnet: ResNet48Subnet, genes: dict) -> None:
        space, ratios = self.space, self.space.channel_ratios
        genes['depth'][:] = [
            space.depths[s].index(d) for s, d in enumerate(subnet.depth)
        ]
        genes['out'][:] = [ratios.index(r) for r in subnet.out_ratio]
        for s, mids in enumerate(subnet.mid_ratio):
            for b, ratio in enumerate(mids):
                genes['mid'][self.stage_start[s] + b] = ratios.index(ratio)

    # -------------------------------------------------------------- costs
    def slot_indices(self, population: Population) -> np.ndarray:
        """Stem: its ratio; block: (input, middle, output ratio); head: the
        last stage's ratio."""
        out, num_r = population.out, self._num_r
        blocks = (out[:, self.block_in_stage] * num_r +
                  population.mid) * num_r + out[:, self.block_stage]
        blocks = np.where(self.active(population), blocks, -1)
        return np.concatenate([out[:, :1], blocks, out[:, -1:]], axis=1)

    def slot_costs(self, estimator, resolution: int, kind: str):
        """From the estimator's per-part costs (``stem_cost``,
        ``block_cost``, ``head_cost``)."""
        space, ratios = self.space, self.space.channel_ratios
        part = 0 if kind == 'macs' else 1
        slots = [[
            estimator.stem_cost(space.width(0, r), resolution)[part]
            for r in ratios
        ]]
        sizes = estimator.block_input_sizes(resolution)
        for b, (s, position) in enumerate(
                zip(self.block_stage, self.block_position)):
            in_stage = self.block_in_stage[b]
            slots.append([
                estimator.block_cost(s, position, space.width(in_stage, r_in),
                                     space.width(s, r_mid),
                                     space.width(s, r_out), sizes[b])[part]
                for r_in in ratios for r_mid in ratios for r_out in ratios
            ])
        slots.append([
            estimator.head_cost(space.width(space.num_stages - 1, r))[part]
            for r in ratios
        ])
        return 0.0, slots
