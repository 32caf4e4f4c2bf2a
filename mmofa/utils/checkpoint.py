"""Checkpoint files: loaded with ``weights_only=True``, written atomically."""
import fnmatch
import os
import pickle
import re
import tempfile
from pathlib import Path
from typing import (Any, BinaryIO, Callable, Dict, List, Mapping, Sequence,
                    Union)

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


def _numpy_globals() -> List[Any]:
    """numpy's array, scalar and dtype globals under the names of numpy 2
    (``numpy._core``) and numpy 1.x (``numpy.core``): a checkpoint pickled
    under either names them by its own numpy's module path."""
    numpy_core = getattr(np, '_core', None) or np.core
    dtype_classes = {
        type(np.dtype(name))
        for name in ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                     'uint16', 'uint32', 'uint64', 'float16', 'float32',
                     'float64')
    }
    entries = [np.ndarray, np.dtype]
    entries += sorted(dtype_classes, key=lambda c: c.__name__)
    for name in ('_reconstruct', 'scalar'):
        function = getattr(numpy_core.multiarray, name)
        for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
            entries.append((function, f'{module}.{name}'))
    return entries


def checkpoint_safe_globals() -> List[Any]:
    """The non-tensor globals that MMEngine writes into checkpoints.

    Message-hub history (``HistoryBuffer`` and, through a ``getattr``
    restricted to it, its statistics methods) and the numpy arrays, scalars
    and dtypes inside it (as numpy 1.x and 2.x name them). Only these are
    allowed besides torch's defaults; ``weights_only`` is never turned off.
    """
    from mmengine.logging import HistoryBuffer
    return [
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
        *_numpy_globals(),
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


ZIP_MAGIC = b'PK\x03\x04'
PICKLE_PROTOCOL_OPCODE = 0x80
_REFUSED_GLOBAL = re.compile(r'Unsupported global: GLOBAL ([\w.]+)\.(\w+)')
_UNPICKLER_ERROR = re.compile(r'WeightsUnpickler error:\s*(.*?)(?:\n\n|$)',
                              re.S)
CHECKPOINT_CONTENTS = ('mmofa loads only tensors, numpy arrays, plain Python '
                       "values and MMEngine's message hub from a checkpoint "
                       '(weights_only=True): other objects could run code '
                       'when the file is unpickled')


def _is_directory_error(path: Path) -> str:
    latest = path / 'last_checkpoint'
    hint = ''
    if latest.is_file():
        hint = f' (its last_checkpoint names {latest.read_text().strip()})'
    else:
        found = sorted(path.glob('*.pth'))
        if found:
            hint = f' (it holds {", ".join(p.name for p in found[:4])}'
            hint += ', ...)' if len(found) > 4 else ')'
    return (f'checkpoint {str(path)!r} is a directory, not a checkpoint '
            f'file: give the .pth file in it{hint}')


def _describe_load_error(path: Path, error: Exception) -> str:
    """What went wrong with ``path``, in mmofa's words (never torch's
    advice to turn ``weights_only`` off)."""
    size = path.stat().st_size
    with open(path, 'rb') as file:
        head = file.read(8)
    text = str(error)
    refused = _REFUSED_GLOBAL.search(text)
    if refused:
        module, name = refused.groups()
        return (f'{path} asks for {name!r} from {module!r}, which mmofa '
                f'refuses to load: {CHECKPOINT_CONTENTS}. If you made the '
                'file, save plain weights instead (torch.save(model.'
                'state_dict(), path)) or publish it with '
                'tools/publish_checkpoint.py')
    if not head.startswith(ZIP_MAGIC) and (not head or head[0]
                                           != PICKLE_PROTOCOL_OPCODE):
        kind = 'text' if head.decode('utf-8', 'replace').isprintable() \
            else 'data'
        return (f'{path} is not a checkpoint: it is neither a zip archive '
                f'(torch.save\'s format) nor a pickle; it starts with '
                f'{head!r} ({kind}, {size} bytes)')
    if head.startswith(ZIP_MAGIC) and 'central directory' in text:
        return (f'{path} is a truncated or corrupt zip archive ({size} '
                'bytes): it was not written completely; copy or download '
                'it again')
    unpickler = _UNPICKLER_ERROR.search(text)
    reason = unpickler.group(1).strip() if unpickler else \
        text.split('\n')[0]
    return (f'{path} cannot be read as a checkpoint ({type(error).__name__}'
            f': {reason}); {CHECKPOINT_CONTENTS}')


def load_checkpoint_file(path: PathLike, map_location='cpu') -> Any:
    """``torch.load`` with ``weights_only=True`` and mmofa's allowlist.

    Raises:
        CheckpointError: The file is missing, a directory, not a torch
            checkpoint, truncated, or holds objects outside the allowlist
            (which could run code); the message says which.
    """
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(_is_directory_error(path))
    if not path.is_file():
        raise CheckpointError(f'checkpoint {str(path)!r} does not exist')
    if path.stat().st_size == 0:
        raise CheckpointError(f'{path} is empty (0 bytes): not a checkpoint;'
                              ' was it written or copied completely?')
    allow_checkpoint_globals()
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if 'getattr(' in str(error) and 'HistoryBuffer' in str(error):
            raise CheckpointError(f'{path}: {error}') from None
        raise CheckpointError(_describe_load_error(path, error)) from None
    except Exception as error:  # torch raises many kinds for a bad file
        raise CheckpointError(_describe_load_error(path, error)) from None


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


def adapt_state_dict(model: nn.Module, state_dict: Mapping) -> Dict:
    """``state_dict`` as ``model`` takes it: each submodule with an
    ``adapt_loaded_state_dict(state_dict, prefix)`` method drops (after
    checking) the entries of other layouts it accepts but does not hold,
    e.g. MMRazor's channel masks.

    Raises:
        CheckpointError: An adapter found such an entry wrong.
    """
    state_dict = dict(state_dict)
    problems = []
    for name, module in model.named_modules():
        adapt = getattr(module, 'adapt_loaded_state_dict', None)
        if adapt is not None:
            problems += adapt(state_dict, f'{name}.' if name else '')
    if problems:
        raise CheckpointError('\n  '.join(['the checkpoint does not fit:'] +
                                          problems))
    return state_dict


def _excluded(key: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(key, pattern) for pattern in patterns)


def check_state_dict_fits(model: nn.Module,
                          state_dict: Mapping,
                          source: str,
                          exclude: Sequence[str] = ()) -> Dict:
    """The entries of ``state_dict`` to load into ``model``, checked
    completely: every key of the model present with its shape, no key
    left over.

    Args:
        model: The model to fill.
        state_dict: The checkpoint's weights.
        source (str): Where they came from (a path), for messages.
        exclude (Sequence[str]): ``fnmatch`` patterns of model keys not
            taken from the checkpoint (missing, of another shape or
            present): the model keeps its own values there, e.g.
            ``['architecture.head.fc.*']`` for a new head. A pattern that
            matches no key of the model is an error (a typo).

    Raises:
        CheckpointError: Missing, unexpected or mis-shaped keys, named with
            their shapes.
    """
    state_dict = adapt_state_dict(model, state_dict)
    target = model.state_dict()
    unused_patterns = [
        p for p in exclude
        if not any(fnmatch.fnmatchcase(k, p) for k in target)
    ]
    if unused_patterns:
        raise CheckpointError(
            f'exclude patterns {unused_patterns} match no key of '
            f'{type(model).__name__} (keys look like '
            f'{", ".join(list(target)[:3])})')
    state_dict = {
        k: v
        for k, v in state_dict.items() if not _excluded(k, exclude)
    }
    target = {k: v for k, v in target.items() if not _excluded(k, exclude)}
    problems = state_dict_mismatch(
        state_dict, target, 'checkpoint', 'model', limit=8)
    if problems:
        hint = ''
        if any(k.startswith(('blocks.', 'first_conv.')) for k in state_dict):
            hint = ('\nThis looks like an official Once-for-All checkpoint:'
                    ' convert it with tools/convert_ofa_ckpt.py first.')
        elif any('head' in p for p in problems):
            classes = _head_classes(state_dict, target)
            hint = ('\nFor a new classifier head (another number of '
                    "classes), exclude it: load_from_exclude = ['*head.fc.*']"
                    ' in the config (or init_model(..., exclude=...)).')
            if classes:
                hint = (f'\nThe checkpoint\'s head has {classes[0]} classes,'
                        f' the model\'s {classes[1]}.' + hint)
        raise CheckpointError('\n'.join(
            [f'{source} does not fit {type(model).__name__}:'] + problems) +
                              hint)
    return state_dict


def _head_classes(state_dict: Mapping, target: Mapping):
    """(checkpoint classes, model classes) of a classifier whose number of
    classes differs, else None."""
    for key, value in target.items():
        if key.endswith('head.fc.weight') and key in state_dict:
            have = state_dict[key].shape[0]
            if have != value.shape[0]:
                return have, value.shape[0]
    return None


def load_state_dict_checked(model: nn.Module,
                            state_dict: Mapping,
                            source: str,
                            exclude: Sequence[str] = ()) -> None:
    """Load ``state_dict`` into ``model`` after
    :func:`check_state_dict_fits` (nothing is loaded if it does not fit)."""
    state_dict = check_state_dict_fits(model, state_dict, source, exclude)
    model.load_state_dict(state_dict, strict=not exclude)


def load_model_weights(model: nn.Module,
                       path: PathLike,
                       exclude: Sequence[str] = ()) -> dict:
    """Load a checkpoint file into ``model`` strictly, naming bad keys.

    Args:
        exclude: Keys the model keeps (see :func:`check_state_dict_fits`).

    Returns:
        dict: The checkpoint's ``meta`` (empty if it has none).

    Raises:
        CheckpointError: Not a checkpoint, or missing, unexpected or
            mis-shaped keys.
    """
    checkpoint = load_checkpoint_file(path)
    state_dict = state_dict_of(checkpoint, str(path))
    load_state_dict_checked(model, state_dict, str(path), exclude)
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    return dict(meta) if isinstance(meta, Mapping) else {}


def _umask() -> int:
    """This process's umask (read without changing it where Linux tells
    it, else set and restored at once)."""
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Write a file through a temporary file renamed over ``path``.

    A crash or kill while writing leaves any earlier file at ``path``
    intact; no partial file is ever left under that name. The file gets
    the mode a plain ``open`` would give it (``0o666`` less the umask),
    not the temporary file's private ``0o600``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(
        prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        os.fchmod(handle, 0o666 & ~_umask())
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
