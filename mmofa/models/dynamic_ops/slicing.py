"""Prefix slicing shared by the elastic ops."""
from typing import Dict, Optional, Sequence, Tuple

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


def memory_format_of(tensor: torch.Tensor) -> torch.memory_format:
    """The memory format ``tensor``'s strides follow: channels-last when
    channels vary fastest, as in a slice of a channels-last weight."""
    if tensor.dim() == 4 and tensor.stride(1) < tensor.stride(3):
        return torch.channels_last
    return torch.contiguous_format


def dense(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` made dense, keeping its memory format."""
    return tensor.contiguous(memory_format=memory_format_of(tensor))


class ActiveWeightCache:
    """The last active weight of an elastic op, reused while nothing changed.

    Used only when no gradient is recorded (evaluation, BN recalibration):
    then a transformed kernel or a sliced weight made contiguous is computed
    once per subnet instead of once per forward. The key holds the sizes
    and the version counter and storage of every tensor involved, so an
    optimizer step, ``load_state_dict`` or channel sorting invalidates it;
    the ops also clear it on ``train()`` / ``eval()``. (In-place edits
    through ``.data`` bypass version counters: switch the mode after them.)
    One entry: evaluation runs one subnet at a time.
    """

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self.key = None
        self.value = None

    @staticmethod
    def tensor_key(*tensors) -> tuple:
        return tuple((t._version, t.data_ptr(), t.dtype, t.device)
                     for t in tensors if t is not None)

    def get(self, sizes: tuple, tensors: tuple, compute):
        if torch.is_grad_enabled():
            return compute()
        key = (sizes, self.tensor_key(*tensors))
        if key != self.key:
            self.value = compute()
            self.key = key
        return self.value


class CachedActiveWeightMixin:
    """An elastic op with an :class:`ActiveWeightCache`, cleared whenever
    the train/eval mode is set."""

    def train(self, mode: bool = True):
        self._cache.clear()
        return super().train(mode)


def select_(tensor: torch.Tensor, dim: int, index: torch.Tensor) -> None:
    """Reorder ``tensor`` along ``dim`` in place (the Parameter and its
    memory format are kept)."""
    tensor.data = torch.index_select(tensor.data, dim, index).contiguous(
        memory_format=memory_format_of(tensor))


def select_bn_(bn: torch.nn.BatchNorm2d, index: torch.Tensor) -> None:
    """Reorder the channels of a batch norm (affine terms and statistics)."""
    for tensor in (bn.weight, bn.bias, bn.running_mean, bn.running_var):
        select_(tensor, 0, index)


def importance_order(importance: torch.Tensor, widths: Sequence[int],
                     expand_ratio_stage: int) -> torch.Tensor:
    """Channels by descending importance, as Once-for-All sorts them.

    With ``expand_ratio_stage = n > 0`` the channels past each of the
    largest ``n + 1`` of ``widths`` (the middle widths of the expand
    ratios) get offsets of -1e5, -2e5, ... so that no channel crosses
    those borders. ``importance`` is changed in place.
    """
    if expand_ratio_stage > 0:
        widths = sorted(widths, reverse=True)
        right = len(importance)
        offset = -len(widths) * 1e5
        for left in widths[:expand_ratio_stage + 1]:
            importance[left:right] += offset
            offset += 1e5
            right = left
    return torch.sort(importance, dim=0, descending=True)[1]
