"""Devices: a clear error for one that this machine does not have."""
import os

import torch


def check_device(device, source: str = 'device') -> torch.device:
    """``device`` as a ``torch.device``, refused by name if absent here.

    Args:
        device: ``'cpu'``, ``'cuda'``, ``'cuda:1'`` or a ``torch.device``.
        source (str): Where the value came from, for the message.

    Raises:
        ValueError: Not a device name.
        RuntimeError: A CUDA device without a usable GPU, or beyond the
            visible ones.
    """
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f'{source} = {device!r} is not a device: '
                         f"use 'cpu', 'cuda' or 'cuda:N' ({error})") from None
    if device.type != 'cuda':
        return device
    if not torch.cuda.is_available():
        visible = os.environ.get('CUDA_VISIBLE_DEVICES')
        why = ('torch is a CPU-only build' if torch.version.cuda is None else
               f'torch (CUDA {torch.version.cuda}) finds no GPU or '
               'driver')
        if visible is not None:
            why += f', CUDA_VISIBLE_DEVICES={visible!r}'
        raise RuntimeError(f"{source} = '{device}' but this machine has no "
                           f"usable GPU ({why}); use 'cpu'")
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise RuntimeError(f"{source} = '{device}' but only {count} GPU(s) "
                           f'are visible: cuda:0..cuda:{count - 1}')
    return device
