from .samplers import FixedSubsetSampler
from .transforms import LoadImageFromFile, ResizeCenterCrop
from .worker_seed import seed_worker
from .wrappers import innermost_dataset, innermost_dataset_cfg

__all__ = [
    'FixedSubsetSampler', 'LoadImageFromFile', 'ResizeCenterCrop',
    'seed_worker', 'innermost_dataset', 'innermost_dataset_cfg'
]
