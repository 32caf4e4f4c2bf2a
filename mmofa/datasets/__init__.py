from .samplers import FixedSubsetSampler
from .transforms import LoadImageFromFile, ResizeCenterCrop
from .worker_seed import seed_worker

__all__ = [
    'FixedSubsetSampler', 'LoadImageFromFile', 'ResizeCenterCrop',
    'seed_worker'
]
