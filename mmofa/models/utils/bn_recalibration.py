"""Batch-norm recalibration of the active subnet (OFA's running statistics)."""
from functools import partial
from typing import Dict, Iterable, List

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.dist import get_world_size


@torch.no_grad()
def recalibrate_bn(model: nn.Module,
                   batches: Iterable[torch.Tensor],
                   forward=None,
                   all_reduce: bool = True) -> int:
    """Set BN running statistics of the active subnet from data.

    Every batch norm normalises by the statistics of the batch (as in
    training) and records them: running mean and variance of the active
    channels become the averages of the per-batch mean and biased variance
    over all batches, weighted by batch size and summed over all processes.
    The statistics are taken inside the same forward pass that normalises
    (no second pass over the data; on contiguous NCHW CPU input by two
    reductions before the eval-mode kernel, elsewhere by the training-mode
    kernel). Nothing else changes: no other buffer, no module's train/eval
    mode.

    Args:
        model (nn.Module): The model, its subnet already active.
        batches (Iterable[Tensor]): Preprocessed input batches.
        forward (callable, optional): ``forward(model, inputs)``; defaults
            to ``model(inputs, mode='tensor')``.
        all_reduce (bool): Sum the statistics over all processes; False
            takes this process's batches only. Defaults to True.

    Returns:
        int: The number of images seen by this process.
    """
    norms: List[nn.modules.batchnorm._BatchNorm] = [
        m for m in model.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
    ]
    sums: Dict[nn.Module, List[torch.Tensor]] = {}
    modes = {m: m.training for m in model.modules()}
    model.eval()  # no dropout; batch norms are replaced below
    for norm in norms:
        norm.forward = partial(_recording_batch_norm, norm, sums)
    forward = forward or (lambda net, x: net(x, mode='tensor'))
    count = 0
    try:
        for inputs in batches:
            forward(model, inputs)
            count += inputs.size(0)
    finally:
        for norm in norms:
            del norm.forward  # back to the class's forward
        for m, training in modes.items():
            m.training = training

    total = torch.tensor(float(count))
    distributed = all_reduce and get_world_size() > 1
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


def _recording_batch_norm(norm: nn.modules.batchnorm._BatchNorm,
                          sums: Dict[nn.Module, List[torch.Tensor]],
                          x: torch.Tensor) -> torch.Tensor:
    """``norm`` with batch statistics over its first ``x.size(1)``
    channels, adding ``n * mean`` and ``n * variance`` to ``sums``."""
    channels = x.size(1)
    weight = norm.weight[:channels] if norm.affine else None
    bias = norm.bias[:channels] if norm.affine else None
    if x.device.type == 'cpu' and x.is_contiguous():
        # PyTorch's training-mode kernel is ~5x its eval kernel on
        # contiguous NCHW input on CPU: take the statistics with two fast
        # reductions, then normalise with the eval kernel.
        mean, variance = _nchw_batch_statistics(x)
        out = torch.batch_norm(x, weight, bias, mean, variance, False, 0.0,
                               norm.eps, False)
    else:
        out, mean, invstd = torch.native_batch_norm(x, weight, bias, None,
                                                    None, True, 0.0, norm.eps)
        variance = invstd.double().pow(-2).sub(norm.eps).to(mean.dtype)
    n = x.size(0)
    if norm not in sums:
        sums[norm] = [mean * n, variance * n]
    else:
        sums[norm][0] += mean * n
        sums[norm][1] += variance * n
    return out


def _nchw_batch_statistics(x: torch.Tensor):
    """Per-channel mean and biased variance of a contiguous NCHW tensor.

    Sums over each image's plane (contiguous, vectorised) in ``x``'s dtype,
    then over the batch in float64: ``var = E[x^2] - mean^2``. Its relative
    error is about ``1e-7 * (1 + mean^2 / var)`` in float32.
    """
    planes = x.view(x.size(0), x.size(1), -1)
    count = planes.size(0) * planes.size(2)
    mean = planes.sum(-1).double().sum(0) / count
    square = torch.linalg.vector_norm(planes, dim=-1).double().pow(2).sum(0)
    variance = (square / count - mean * mean).clamp_(min=0)
    return mean.to(x.dtype), variance.to(x.dtype)
