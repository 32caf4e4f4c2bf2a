"""Checkpoint files: loaded with ``weights_only=True``, written atomically."""
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Dict, List, Mapping, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.fileio import LocalBackend, register_backend

PathLike = Union[str, Path]


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` as MMEngine checkpoints use it, and for nothing else.

    Pickle protocol 2 stores ``HistoryBuffer``'s statistics methods as
    ``getattr(HistoryBuffer, 'mean')``; any other use is refused.
    """
    from mmengine.logging import HistoryBuffer

    # The built-in ones are registered only when a buffer is first made.
    allowed = {'min', 'max', 'current', 'mean'}
    allowed.update(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only '
        'HistoryBuffer statistics methods are allowed')


def checkpoint_safe_globals() -> List[Any]:
    """The non-tensor globals that MMEngine writes into checkpoints.

    Message-hub history (``HistoryBuffer`` and, through a ``getattr``
    restricted to it, its statistics methods) and the numpy arrays, scalars
    and dtypes inside it. Only these are allowed besides torch's defaults;
    ``weights_only`` is never turned off.
    """
    from mmengine.logging import HistoryBuffer
    numpy_core = getattr(np, '_core', None) or np.core
    dtype_classes = {
        type(np.dtype(name))
        for name in ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                     'uint16', 'uint32', 'uint64', 'float16', 'float32',
                     'float64')
    }
    return [
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
        numpy_core.multiarray._reconstruct,
        numpy_core.multiarray.scalar,
        np.ndarray,
        np.dtype,
        *sorted(dtype_classes, key=lambda c: c.__name__),
    ]


_ALLOWED = False


def allow_checkpoint_globals() -> None:
    """Add :func:`checkpoint_safe_globals` to torch's ``weights_only``
    allowlist of this process (once).

    Process-wide, so that MMEngine's own ``torch.load`` calls (resume,
    ``load_from``) accept MMEngine's checkpoints too. (torch's
    ``safe_globals`` context would remove them again on exit.)
    """
    global _ALLOWED
    if not _ALLOWED:
        torch.serialization.add_safe_globals(checkpoint_safe_globals())
        _ALLOWED = True


class CheckpointError(RuntimeError):
    """A file that is not a usable checkpoint."""


def load_checkpoint_file(path: PathLike, map_location='cpu') -> Any:
    """``torch.load`` with ``weights_only=True`` and mmofa's allowlist.

    Raises:
        CheckpointError: The file is missing, is not a torch checkpoint, or
            holds objects outside the allowlist (which could run code).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f'checkpoint {str(path)!r} does not exist')
    allow_checkpoint_globals()
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many kinds for a bad file
        raise CheckpointError(
            f'cannot load {path} as a checkpoint with weights_only=True: '
            f'{type(error).__name__}: {error}') from error


def state_dict_of(checkpoint: Any, source: str = 'checkpoint') -> Dict:
    """The state dict in a checkpoint: ``state_dict``/``model`` or itself."""
    if not isinstance(checkpoint, Mapping):
        raise CheckpointError(f'{source} holds a {type(checkpoint).__name__}'
                              ', not a state dict')
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(key), Mapping):
            checkpoint = checkpoint[key]
            break
    state_dict = dict(checkpoint)
    bad = [k for k, v in state_dict.items() if not torch.is_tensor(v)]
    if bad:
        raise CheckpointError(f'{source}: not a state dict, entries '
                              f'{bad[:5]} are not tensors')
    # Weights saved from a DistributedDataParallel wrapper.
    if state_dict and all(k.startswith('module.') for k in state_dict):
        state_dict = {k[len('module.'):]: v for k, v in state_dict.items()}
    return state_dict


def state_dict_mismatch(source: Mapping,
                        target: Mapping,
                        source_name: str = 'source',
                        target_name: str = 'model',
                        unused_label: str = 'unexpected',
                        limit: int = 10) -> List[str]:
    """Lines naming the keys that keep ``source`` from filling ``target``:
    missing, unused (``unused_label``) and mis-shaped; empty if it fits."""
    missing = sorted(set(target) - set(source))
    unused = sorted(set(source) - set(target))
    mismatched = [
        f'{k}: {source_name} {tuple(v.shape)} vs {target_name} '
        f'{tuple(target[k].shape)}' for k, v in source.items()
        if k in target and tuple(v.shape) != tuple(target[k].shape)
    ]
    lines = []
    for label, keys in (('missing', missing), (unused_label, unused),
                        ('mismatched', mismatched)):
        if keys:
            more = f' (+{len(keys) - limit} more)' if len(keys) > limit else ''
            lines.append(f'  {len(keys)} {label}: '
                         f'{", ".join(keys[:limit])}{more}')
    return lines


def load_model_weights(model: nn.Module, path: PathLike) -> None:
    """Load a checkpoint into ``model`` strictly, naming bad keys.

    Raises:
        CheckpointError: Missing, unexpected or mis-shaped keys.
    """
    state_dict = state_dict_of(load_checkpoint_file(path), str(path))
    problems = state_dict_mismatch(
        state_dict, model.state_dict(), 'checkpoint', 'model', limit=8)
    if problems:
        hint = ''
        if any(k.startswith(('blocks.', 'first_conv.')) for k in state_dict):
            hint = ('\nThis looks like an official Once-for-All checkpoint:'
                    ' convert it with tools/convert_ofa_ckpt.py first.')
        raise CheckpointError('\n'.join(
            [f'{path} does not fit {type(model).__name__}:'] + problems) +
                              hint)
    model.load_state_dict(state_dict, strict=True)


def atomic_write(path: PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Write a file through a temporary file renamed over ``path``.

    A crash or kill while writing leaves any earlier file at ``path``
    intact; no partial file is ever left under that name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(
        prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        with os.fdopen(handle, 'wb') as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_checkpoint_file(obj: Any, path: PathLike) -> None:
    """``torch.save`` written atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda file: torch.save(obj, file))


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend with atomic writes.

    Give ``backend_args=dict(backend='atomic_local')`` to the
    ``CheckpointHook`` so that a kill while saving never leaves a broken
    checkpoint (or ``last_checkpoint`` record) behind.
    """

    def put(self, obj: bytes, filepath: PathLike) -> None:
        atomic_write(filepath, lambda file: file.write(obj))

    def put_text(self,
                 obj: str,
                 filepath: PathLike,
                 encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)


register_backend('atomic_local', AtomicLocalBackend, force=True)
