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
    with pytest.raises(CheckpointError, match='weights_only=True'):
        load_checkpoint_file(path)
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


def test_not_a_checkpoint(tmp_path):
    text = tmp_path / 'notes.pth'
    text.write_text('hello')
    with pytest.raises(CheckpointError, match='cannot load'):
        load_checkpoint_file(text)
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.ones(1000)}}, good)
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(CheckpointError, match='cannot load'):
        load_checkpoint_file(truncated)
    with pytest.raises(CheckpointError, match='does not exist'):
        load_checkpoint_file(tmp_path / 'missing.pth')
    with pytest.raises(CheckpointError, match='not tensors'):
        state_dict_of({'a': 1})


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
