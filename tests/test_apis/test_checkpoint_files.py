import io
import pickle
import zipfile

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from mmofa.utils.checkpoint import (CheckpointError, load_checkpoint_file,
                                    save_checkpoint_file, state_dict_of)


class WritesAFile:
    """Unpickling this object creates a file: a stand-in for any payload."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def test_code_running_checkpoint_is_refused(tmp_path):
    target = tmp_path / 'pwned.txt'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': WritesAFile(str(target))}, path)
    assert "asks for 'open' from 'io'" in refusal(path)
    assert not target.exists()


class CallsGetattr:
    """Unpickles to ``getattr(HistoryBuffer, '__init__')``: not allowed."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = tmp_path / 'getattr.pth'
    torch.save({'x': CallsGetattr()}, path)
    with pytest.raises(
            CheckpointError,
            match='only HistoryBuffer statistics '
            'methods are allowed'):
        load_checkpoint_file(path)


def test_mmengine_checkpoint_contents_load(tmp_path):
    buffer = HistoryBuffer()
    buffer.update(0.5)
    buffer.update(0.25)
    checkpoint = {
        'state_dict': {
            'w': torch.ones(2)
        },
        'message_hub': {
            'log_scalars': {
                'train/loss': buffer
            }
        },
        'meta': {
            'seed': np.int64(3),
            'hist': np.arange(3.0),
            'dtype': np.dtype('float32')
        },
    }
    path = tmp_path / 'runner.pth'
    torch.save(checkpoint, path)
    loaded = load_checkpoint_file(path)
    assert loaded['message_hub']['log_scalars']['train/loss'].mean() == 0.375
    assert loaded['meta']['seed'] == 3
    assert torch.equal(state_dict_of(loaded)['w'], torch.ones(2))


def refusal(path) -> str:
    with pytest.raises(CheckpointError) as error:
        load_checkpoint_file(path)
    message = str(error.value)
    # mmofa never loads with weights_only=False, nor advises it.
    assert 'weights_only=False' not in message
    assert 'weights_only` set to `False' not in message
    return message


def test_not_a_checkpoint(tmp_path):
    text = tmp_path / 'notes.pth'
    text.write_text('hello world')
    assert refusal(text) == (
        f"{text} is not a checkpoint: it is neither a zip archive "
        "(torch.save's format) nor a pickle; it starts with b'hello wo' "
        '(text, 11 bytes)')
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.ones(1000)}}, good)
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(good.read_bytes()[:200])
    assert refusal(truncated).startswith(
        f'{truncated} is a truncated or corrupt zip archive (200 bytes)')
    assert refusal(tmp_path / 'missing.pth') == \
        f"checkpoint '{tmp_path / 'missing.pth'}' does not exist"
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    assert 'is empty (0 bytes)' in refusal(empty)
    (tmp_path / 'last_checkpoint').write_text(str(good))
    assert refusal(tmp_path) == (
        f"checkpoint '{tmp_path}' is a directory, not a checkpoint file: "
        f'give the .pth file in it (its last_checkpoint names {good})')
    pickled = tmp_path / 'plain.pkl'
    pickled.write_bytes(pickle.dumps({'a': 1}, protocol=4))
    assert 'cannot be read as a checkpoint (UnpicklingError: Unsupported ' \
        'operand 149)' in refusal(pickled)
    with pytest.raises(CheckpointError, match='not tensors'):
        state_dict_of({'a': 1})


def test_a_refused_global_is_named(tmp_path):
    path = tmp_path / 'object.pth'
    torch.save({'state_dict': {}, 'opener': io.open}, path)
    message = refusal(path)
    assert message.startswith(f"{path} asks for 'open' from 'io', which "
                              'mmofa refuses to load')
    assert 'could run code' in message


def test_numpy_1_names_are_allowed(tmp_path):
    """Files pickled under numpy 1.x name numpy.core.multiarray (numpy 2:
    numpy._core): both load, nothing else of numpy.core does."""
    path = tmp_path / 'numpy1.pth'
    torch.save({'meta': {'hist': np.arange(3.0), 'seed': np.int64(3)}}, path)
    with zipfile.ZipFile(path) as source:
        entries = {n: source.read(n) for n in source.namelist()}
    name = next(n for n in entries if n.endswith('data.pkl'))
    assert b'numpy._core.multiarray' in entries[name]
    entries[name] = entries[name].replace(b'numpy._core.multiarray',
                                          b'numpy.core.multiarray')
    with zipfile.ZipFile(path, 'w') as target:
        for n, data in entries.items():
            target.writestr(n, data)
    loaded = load_checkpoint_file(path)['meta']
    assert np.array_equal(loaded['hist'], np.arange(3.0))
    assert loaded['seed'] == 3


class FailsToPickle:

    def __reduce__(self):
        raise RuntimeError('disk full')


def test_save_is_atomic(tmp_path):
    path = tmp_path / 'latest.pth'
    save_checkpoint_file({'state_dict': {'w': torch.zeros(3)}}, path)
    with pytest.raises(RuntimeError, match='disk full'):
        save_checkpoint_file({'state_dict': {}, 'x': FailsToPickle()}, path)
    assert torch.equal(
        load_checkpoint_file(path)['state_dict']['w'], torch.zeros(3))
    assert [p.name for p in tmp_path.iterdir()] == ['latest.pth']


def test_history_buffer_loads_in_a_fresh_process(tmp_path):
    """No HistoryBuffer exists yet in a new interpreter when a checkpoint
    that pickled its statistics methods is loaded."""
    import subprocess
    import sys
    buffer = HistoryBuffer()
    buffer.update(2.0)
    path = tmp_path / 'hub.pth'
    torch.save({'message_hub': {'loss': buffer}}, path)
    code = ('from mmofa.utils.checkpoint import load_checkpoint_file; '
            f'print(load_checkpoint_file({str(path)!r})'
            "['message_hub']['loss'].mean())")
    out = subprocess.run([sys.executable, '-c', code],
                         check=True,
                         capture_output=True,
                         text=True).stdout
    assert out.strip() == '2.0'
