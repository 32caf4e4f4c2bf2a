"""Shared helpers of the tests: models with non-trivial weights."""
import random
from pathlib import Path

import torch

from mmofa.apis import init_model

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / 'shared' / 'reference'
W10_CONFIG = REPO / 'configs/ofa/ofa_mbv3_w10_supernet.py'
W12_CONFIG = REPO / 'configs/ofa/ofa_mbv3_w12_supernet.py'


@torch.no_grad()
def perturb_(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Non-trivial BN statistics and affine terms, non-identity transforms.

    Works on mmofa and official models alike (by parameter names).
    """
    gen = torch.Generator().manual_seed(seed)
    for name, param in model.named_parameters():
        if 'matrix' in name:
            param.add_(torch.randn(param.shape, generator=gen) * 0.1)
        elif param.dim() == 1 and name.endswith('weight'):
            param.copy_(torch.rand(param.shape, generator=gen) + 0.5)
        elif name.endswith('bias'):
            param.copy_(torch.randn(param.shape, generator=gen) * 0.1)
    for name, buffer in model.named_buffers():
        if name.endswith('running_mean'):
            buffer.copy_(torch.randn(buffer.shape, generator=gen) * 0.1)
        elif name.endswith('running_var'):
            buffer.copy_(torch.rand(buffer.shape, generator=gen) * 1.5 + 0.5)
    return model


def build_supernet(config=W10_CONFIG, seed: int = 0):
    """An OFA supernet in eval mode with perturbed weights."""
    torch.manual_seed(seed)
    return perturb_(init_model(config), seed)


def random_subnets(model, count: int, seed: int = 0):
    """Activate ``count`` random subnets of ``model`` in turn, yield each."""
    generator = random.Random(seed)
    for _ in range(count):
        yield model.sample_subnet('random', generator)
