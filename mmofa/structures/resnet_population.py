"""Populations of OFA ResNet50 subnets (the official ``ofa_resnet50``
space): genes, the official ``ResNetArchEncoder`` features, cost slots."""
from typing import List, Sequence

import numpy as np

from .population import Population, PopulationCodec
from .resnet_subnet import ResNetSubnet


class ResNetPopulationCodec(PopulationCodec):
    """Populations of an OFA ResNet space.

    Genes (each column mutates on its own, as in the official
    ``ResNetArchEncoder.mutate_arch``):

    * ``stem`` ``[N, 1]``: the input stem's depth, 0 = the smallest (its
      residual conv skipped), 1 = the largest (it runs), the only two
      networks it gives (drawn 1/2 each, as the official sampler);
    * ``depth`` ``[N, stages]``: indices into the depths;
    * ``width`` ``[N, stages + 2]``: indices into the width multipliers
      (stem convs 1-2, stem conv 3, each stage);
    * ``expand`` ``[N, blocks]``: indices into the expand ratios, every
      block of the supernet (skipped ones keep theirs).

    The features are the official ``ResNetArchEncoder``'s (resolution,
    stem residual, widths, the expand ratio of every active block). Cost
    slots: the stem (its two widths and the residual conv), each block
    (input, output width and expand ratio), the classifier (its input
    width).


    Built as :class:`PopulationCodec` (no couplings).
    """

    family = 'OFA ResNet'

    def build(self, couplings: Sequence[dict]) -> None:
        space = self.space
        stages = space.num_stages
        self.stem_depths = (min(space.depths), max(space.depths))
        num_w, num_e = len(space.width_mults), len(space.expand_ratios)
        self.set_genes([
            ('stem', [2], 'stem'),
            ('depth', [len(space.depths)] * stages, 'depth'),
            ('width', [num_w] * (stages + 2), 'width'),
            ('expand', [num_e] * self.num_blocks, 'expand'),
        ])
        # Official ResNetArchEncoder layout: resolution, stem residual
        # (skip 0/1), each width setting, each block's expand ratio.
        self._stem_offset = len(self.resolutions)
        self._width_offset = self._stem_offset + 2
        self._expand_offset = self._width_offset + (stages + 2) * num_w
        self.encoding_size = self._expand_offset + self.num_blocks * num_e
        # The width index a block's input has: the stem's output width for
        # the first block, the previous stage's width for other first
        # blocks, its own stage's for the rest.
        first = self.block_position == 0
        self._in_width_gene = np.where(
            first, np.where(self.block_stage == 0, 1, self.block_stage + 1),
            self.block_stage + 2)
        self._num_w, self._num_e = num_w, num_e
        self.slot_sizes = (num_w * num_w * 2, ) + (
            num_w * num_w * num_e, ) * self.num_blocks + (num_w, )

    # ------------------------------------------------------------ queries
    def active(self, population: Population) -> np.ndarray:
        """``[N, num_blocks]``: whether each block runs."""
        depths = np.asarray(self.space.depths)[population.depth]
        counts = depths + np.asarray(self.space.base_depths)[None, :]
        return self.block_position[None, :] < counts[:, self.block_stage]

    def encode(self, population: Population) -> np.ndarray:
        """The official ``ResNetArchEncoder.arch2feature`` ``[N, size]``."""
        n = len(population)
        features = np.zeros((n, self.encoding_size), dtype=np.float32)
        rows = np.arange(n)
        features[rows, population.resolution] = 1
        features[rows, self._stem_offset + population.stem[:, 0]] = 1
        for i in range(population.width.shape[1]):
            features[rows, self._width_offset + i * self._num_w +
                     population.width[:, i]] = 1
        row, block = np.nonzero(self.active(population))
        features[row, self._expand_offset + block * self._num_e +
                 population.expand[row, block]] = 1
        return features

    # --------------------------------------------------------- conversion
    def to_subnets(self, population: Population) -> List[ResNetSubnet]:
        space, subnets = self.space, []
        active = self.active(population)
        for i in range(len(population)):
            expand = []
            for s in range(space.num_stages):
                blocks = np.nonzero(active[i] & (self.block_stage == s))[0]
                expand.append(
                    tuple(space.expand_ratios[population.expand[i, b]]
                          for b in blocks))
            depth = (self.stem_depths[population.stem[i, 0]], ) + tuple(
                space.depths[d] for d in population.depth[i])
            subnets.append(
                ResNetSubnet(
                    depth, tuple(expand),
                    tuple(space.width_mults[w] for w in population.width[i]),
                    self.resolutions[population.resolution[i]]))
        return subnets

    def subnet_genes(self, subnet: ResNetSubnet, genes: dict) -> None:
        space = self.space
        genes['stem'][0] = int(space.stem_residual(subnet.stem_depth))
        genes['depth'][:] = [
            space.depths.index(d) for d in subnet.stage_depths
        ]
        genes['width'][:] = [
            space.width_mults.index(w) for w in subnet.width_mult
        ]
        for s, ratios in enumerate(subnet.expand_ratio):
            for b, ratio in enumerate(ratios):
                genes['expand'][self.stage_start[s] + b] = \
                    space.expand_ratios.index(ratio)

    # -------------------------------------------------------------- costs
    def slot_indices(self, population: Population) -> np.ndarray:
        """Stem: (width 0, width 1, residual); block: (input width, output
        width, expand); head: the last width."""
        w, num_w, num_e = population.width, self._num_w, self._num_e
        stem = (w[:, 0] * num_w + w[:, 1]) * 2 + population.stem[:, 0]
        blocks = (w[:, self._in_width_gene] * num_w +
                  w[:, self.block_stage + 2]) * num_e + population.expand
        blocks = np.where(self.active(population), blocks, -1)
        return np.concatenate([stem[:, None], blocks, w[:, -1:]], axis=1)

    def slot_costs(self, estimator, resolution: int, kind: str):
        """From the estimator's per-part costs (``stem_costs``,
        ``block_costs``, ``head_cost``)."""
        space, widths = self.space, self.space.width_mults
        part = 0 if kind == 'macs' else 1
        stem = [
            sum(c[part] for c in estimator.stem_costs(w0, w1, bool(
                residual), resolution)) for w0 in widths for w1 in widths
            for residual in (0, 1)
        ]
        sizes = estimator.block_input_sizes(resolution)
        slots = [stem]
        for b, (s, position) in enumerate(
                zip(self.block_stage, self.block_position)):
            costs = []
            for w_in in widths:
                in_channels = (
                    space.stem_out_channels(w_in) if s == 0 else
                    space.stage_out_channels(s - 1, w_in)) \
                    if position == 0 else None
                for w_out in widths:
                    out = space.stage_out_channels(s, w_out)
                    channels = out if in_channels is None else in_channels
                    for ratio in space.expand_ratios:
                        costs.append(
                            sum(c[part] for c in estimator.block_costs(
                                s, position, channels, out, ratio, sizes[b])))
            slots.append(costs)
        slots.append([
            estimator.head_cost(
                space.stage_out_channels(space.num_stages - 1, w))[part]
            for w in widths
        ])
        return 0.0, slots
