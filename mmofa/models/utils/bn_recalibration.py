"""Batch-norm recalibration of the active subnet (OFA's running statistics)."""
from typing import Iterable, List

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.dist import get_world_size


@torch.no_grad()
def recalibrate_bn(model: nn.Module,
                   batches: Iterable[torch.Tensor],
                   forward=None) -> int:
    """Set BN running statistics of the active subnet from data.

    Every batch norm normalises by the statistics of the batch (as in
    training) while its per-channel mean and biased variance over the
    batch are recorded; running mean and variance of the active channels
    become their averages over all batches, weighted by batch size and
    summed over all processes. Nothing else changes: other buffers,
    the momentum and the train/eval mode of every module are restored.

    Args:
        model (nn.Module): The model, its subnet already active.
        batches (Iterable[Tensor]): Preprocessed input batches.
        forward (callable, optional): ``forward(model, inputs)``; defaults
            to ``model(inputs, mode='tensor')``.

    Returns:
        int: The number of images seen by this process.
    """
    norms: List[nn.modules.batchnorm._BatchNorm] = [
        m for m in model.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
    ]
    sums = {}

    def record(module, args):
        x = args[0]
        var, mean = torch.var_mean(x, dim=(0, 2, 3), unbiased=False)
        n = x.size(0)
        if module not in sums:
            sums[module] = [mean * n, var * n]
        else:
            sums[module][0] += mean * n
            sums[module][1] += var * n

    modes = {m: m.training for m in model.modules()}
    saved = [(m.momentum, m.num_batches_tracked.clone()) for m in norms]
    handles = [m.register_forward_pre_hook(record) for m in norms]
    model.eval()
    for m in norms:
        m.train()
        m.momentum = 0.0  # batch statistics, running ones left as they are
    forward = forward or (lambda net, x: net(x, mode='tensor'))
    count = 0
    try:
        for inputs in batches:
            forward(model, inputs)
            count += inputs.size(0)
    finally:
        for handle in handles:
            handle.remove()
        for m, (momentum, tracked) in zip(norms, saved):
            m.momentum = momentum
            m.num_batches_tracked.copy_(tracked)
        for m, training in modes.items():
            m.training = training

    total = torch.tensor(float(count))
    distributed = get_world_size() > 1
    if distributed:
        dist.all_reduce(total)
    if total.item() == 0:
        raise ValueError('BN recalibration got no images')
    for m in norms:
        if m not in sums:
            continue  # not in the active subnet
        mean_sum, var_sum = sums[m]
        if distributed:
            dist.all_reduce(mean_sum)
            dist.all_reduce(var_sum)
        channels = mean_sum.numel()
        m.running_mean[:channels] = mean_sum / total.to(mean_sum)
        m.running_var[:channels] = var_sum / total.to(var_sum)
    return count
