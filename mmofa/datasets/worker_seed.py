import os
import random
from typing import Optional

import numpy as np
import torch

from mmofa.registry import FUNCTIONS


@FUNCTIONS.register_module()
def seed_worker(worker_id: int, rank: Optional[int] = None) -> None:
    """Seed numpy and Python in a dataloader worker from torch's seed.

    PyTorch seeds each worker with a base seed drawn from the main process
    when a data iterator starts (every epoch without persistent workers)
    plus the worker id. Deriving numpy's and Python's seeds from it (and
    the rank) makes augmentation vary between epochs and ranks yet repeat
    exactly when the main process's generators are restored on resume.
    Use ``worker_init_fn=dict(type='mmofa.seed_worker')`` with
    ``persistent_workers=False``. ``rank=0`` gives every process the
    same augmentation (for work that must not depend on the process).
    """
    if rank is None:
        rank = int(os.environ.get('RANK', 0))
    seed = (torch.initial_seed() + 1_000_003 * rank) % 2**32
    np.random.seed(seed)
    random.seed(seed)
    torch.manual_seed(seed)
