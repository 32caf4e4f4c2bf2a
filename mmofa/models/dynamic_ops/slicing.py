"""Prefix slicing shared by the elastic ops."""
from typing import Dict, Optional, Tuple

import torch


def slice_weight(weight: torch.Tensor, bias: Optional[torch.Tensor],
                 in_size: int, out_size: int, owner: str,
                 unit: str) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """The first ``out_size`` x ``in_size`` of a weight (and its bias).

    Views, not copies. ``owner`` and ``unit`` ('channels', 'features') name
    the layer in the error raised for sizes beyond the full weight.
    """
    max_out, max_in = weight.shape[:2]
    if in_size > max_in or out_size > max_out:
        raise ValueError(f'{owner} has at most {max_in} input and {max_out} '
                         f'output {unit}; asked for {in_size} -> {out_size}')
    if out_size < max_out:
        weight = weight[:out_size]
        bias = None if bias is None else bias[:out_size]
    if in_size < max_in:
        weight = weight[:, :in_size]
    return weight, bias


def copied_state(weight: torch.Tensor,
                 bias: Optional[torch.Tensor]) -> Dict[str, torch.Tensor]:
    """``{'weight', 'bias'}`` copies for the state dict of a static layer."""
    state = {'weight': weight.detach().clone()}
    if bias is not None:
        state['bias'] = bias.detach().clone()
    return state
