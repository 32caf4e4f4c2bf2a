from .samplers import FixedSubsetSampler
from .transforms import ResizeCenterCrop
from .worker_seed import seed_worker

__all__ = ['FixedSubsetSampler', 'ResizeCenterCrop', 'seed_worker']
