from typing import Callable, Optional, Sequence, Tuple

import torch
import torch.nn as nn


@torch.no_grad()
def count_macs_params(model: nn.Module,
                      input_shape: Sequence[int] = (1, 3, 224, 224),
                      forward: Optional[Callable] = None) -> Tuple[int, int]:
    """Multiply-accumulates and parameters of a static model, by hooks.

    The counting rule is Once-for-All's: a convolution costs
    ``in_channels / groups * k_h * k_w`` per output element, a linear layer
    ``in_features * out_features`` per sample; batch norms, activations,
    pooling and additions cost nothing. MACs are per sample; parameters are
    all of ``model.parameters()``. Elastic (supernet) layers are counted at
    their full size, so count an exported subnet, not a supernet.

    Args:
        model (nn.Module): The model, run once on zeros in eval mode.
        input_shape (Sequence[int]): Shape of the input, batch first.
        forward (Callable, optional): Called as ``forward(model, x)``;
            defaults to ``model(x)``.

    Returns:
        tuple[int, int]: MACs and parameters.
    """
    macs = [0]

    def conv_hook(module, inputs, output):
        kernel_ops = module.kernel_size[0] * module.kernel_size[1]
        per_sample = output.numel() // output.shape[0]
        macs[0] += module.in_channels // module.groups * kernel_ops * \
            per_sample

    def linear_hook(module, inputs, output):
        macs[0] += module.in_features * module.out_features

    handles = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        x = torch.zeros(tuple(input_shape), device=device)
        with torch.no_grad():
            (forward or (lambda m, inputs: m(inputs)))(model, x)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    params = sum(p.numel() for p in model.parameters())
    return macs[0], params
