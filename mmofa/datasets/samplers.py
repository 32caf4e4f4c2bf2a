from typing import Iterator, Optional

import torch
from mmengine.dist import get_dist_info
from torch.utils.data import Sampler

from mmofa.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class FixedSubsetSampler(Sampler):
    """A fixed random subset of a dataset, split across processes.

    The subset (``num_images`` indices drawn with ``seed``) is the same in
    every run and every process; each process takes every
    ``world_size``-th index of it, so together they see it once.

    Args:
        dataset: The dataset.
        num_images (int): Size of the subset (at most the dataset's).
        seed (int): Seed of the draw. Defaults to 0.
        num_replicas (int, optional): Processes to split it across;
            defaults to the world size (1: each process takes all of it).
        rank (int, optional): This process's part; defaults to its rank.
    """

    def __init__(self,
                 dataset,
                 num_images: int,
                 seed: int = 0,
                 num_replicas: Optional[int] = None,
                 rank: Optional[int] = None):
        dist_rank, world_size = get_dist_info()
        world_size = world_size if num_replicas is None else num_replicas
        rank = dist_rank if rank is None else rank
        if not 0 <= rank < world_size:
            raise ValueError(f'rank = {rank} must be in [0, {world_size})')
        total = len(dataset)
        if num_images < world_size:
            raise ValueError(f'num_images = {num_images} must be at least '
                             f'the number of processes ({world_size})')
        num_images = min(num_images, total)
        generator = torch.Generator().manual_seed(seed)
        subset = torch.randperm(total, generator=generator)[:num_images]
        self.indices = subset[rank::world_size].tolist()

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)
