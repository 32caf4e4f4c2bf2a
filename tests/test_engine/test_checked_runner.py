"""mmofa's runner and tool set-up: checkpoints must fit, resume keeps what
the run started from, one run per work dir, misspelled options refused."""
import json
import logging
import os
import subprocess
import sys

import pytest
import torch
from helpers import REPO, make_imagenet_like, run_tool
from mmengine.logging import MMLogger

from mmofa.engine.work_dir_lock import (LOCK_NAME, WorkDirInUseError,
                                        WorkDirLock)
from mmofa.utils.checkpoint import load_checkpoint_file

TINY = 'tests/configs/tiny_ps.py'
ONE_EPOCH = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=5']


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_imagenet_like(
        tmp_path_factory.mktemp('tiny'), num_train=8, num_val=4)


@pytest.fixture(scope='module')
def trained(data, tmp_path_factory):
    """A work dir where the tiny schedule ran 2 epochs from scratch (the
    teacher stage, then the kernel stage, which saves the teacher)."""
    work = tmp_path_factory.mktemp('trained')
    run_tool(
        'tools/train.py',
        TINY,
        '--work-dir',
        work,
        '--cfg-options',
        'train_cfg.max_epochs=2',
        'train_cfg.val_interval=5',
        env={'MMOFA_TEST_DATA': str(data)})
    return work


@pytest.fixture(scope='module')
def wider_checkpoint(tmp_path_factory):
    """A checkpoint of the tiny supernet with other widths."""
    from mmengine.config import Config

    from mmofa.apis import init_model
    cfg = Config.fromfile(str(REPO / TINY))
    cfg.model.architecture.backbone.base_widths = [
        8, 8, 16, 16, 16, 24, 24, 64, 96
    ]
    path = tmp_path_factory.mktemp('wider') / 'wider.pth'
    torch.save(dict(state_dict=init_model(cfg).state_dict()), path)
    return path


def test_test_tool_refuses_a_checkpoint_of_other_widths(
        data, wider_checkpoint, tmp_path):
    result = run_tool(
        'tools/test.py',
        TINY,
        wider_checkpoint,
        '--work-dir',
        tmp_path,
        env={'MMOFA_TEST_DATA': str(data)},
        check=False)
    assert result.returncode != 0
    assert 'CheckpointError' in result.stderr
    assert 'does not fit OFA' in result.stderr
    assert ('65 mismatched: architecture.backbone.layer2.0.linear_conv.conv.'
            'weight: checkpoint (16, 48, 1, 1) vs model (8, 48, 1, 1)'
            ) in result.stderr
    assert 'accuracy/top1' not in result.stdout + result.stderr


def test_load_from_that_does_not_fit_trains_nothing(data, wider_checkpoint,
                                                    tmp_path):
    result = run_tool(
        'tools/train.py',
        TINY,
        '--work-dir',
        tmp_path,
        '--cfg-options',
        f'load_from={wider_checkpoint}',
        *ONE_EPOCH,
        env={'MMOFA_TEST_DATA': str(data)},
        check=False)
    assert result.returncode != 0
    assert 'does not fit OFA' in result.stderr
    assert 'mismatched' in result.stderr
    assert not list(tmp_path.glob('epoch_*.pth'))


def test_a_partial_load_names_what_the_model_keeps(data, trained, tmp_path):
    """load_from_exclude: a head for other classes keeps its own weights;
    without it the two class counts are named."""
    five = [
        'model.architecture.head.num_classes=5',
        'model.architecture.data_preprocessor.num_classes=5'
    ]
    checkpoint = trained / 'epoch_1.pth'
    refused = run_tool(
        'tools/train.py',
        TINY,
        '--work-dir',
        tmp_path / 'a',
        '--cfg-options',
        f'load_from={checkpoint}',
        *five,
        *ONE_EPOCH,
        env={'MMOFA_TEST_DATA': str(data)},
        check=False)
    assert refused.returncode != 0
    assert ('architecture.head.fc.weight: checkpoint (4, 96) vs model '
            '(5, 96)') in refused.stderr
    assert "The checkpoint's head has 4 classes, the model's 5." in \
        refused.stderr
    assert 'load_from_exclude' in refused.stderr
    run_tool(
        'tools/train.py',
        TINY,
        '--work-dir',
        tmp_path / 'b',
        '--cfg-options',
        f'load_from={checkpoint}',
        "load_from_exclude=['architecture.head.fc.*']",
        *five,
        *ONE_EPOCH,
        env={'MMOFA_TEST_DATA': str(data)})
    tuned = load_checkpoint_file(tmp_path / 'b' / 'epoch_1.pth')
    assert tuned['state_dict']['architecture.head.fc.weight'].shape == (5, 96)


def test_resume_under_another_load_from_is_refused(data, trained, tmp_path):
    other = tmp_path / 'other.pth'
    other.write_bytes((trained / 'epoch_1.pth').read_bytes())
    result = run_tool(
        'tools/train.py',
        TINY,
        '--work-dir',
        trained,
        '--resume',
        '--cfg-options',
        f'load_from={other}',
        env={'MMOFA_TEST_DATA': str(data)},
        check=False)
    assert result.returncode != 0
    assert 'started from scratch' in result.stderr
    assert str(other) in result.stderr


def test_resume_with_no_checkpoint_starts_from_load_from(
        data, trained, tmp_path):
    checkpoint = trained / 'epoch_1.pth'
    result = run_tool(
        'tools/train.py',
        TINY,
        '--work-dir',
        tmp_path,
        '--resume',
        '--cfg-options',
        f'load_from={checkpoint}',
        *ONE_EPOCH,
        env={'MMOFA_TEST_DATA': str(data)})
    log = result.stdout + result.stderr
    assert f'no checkpoint in {tmp_path} yet; starting from load_from ' \
        f'{checkpoint}' in log
    meta = load_checkpoint_file(tmp_path / 'epoch_1.pth')['meta']
    assert meta['run_load_from'] == str(checkpoint)


def test_resume_into_a_new_work_dir_finds_the_teacher(data, trained, tmp_path):
    """The one-job schedule's teacher (written in the first run's work dir)
    is found through the resumed checkpoint's record."""
    result = run_tool(
        'tools/train.py',
        TINY,
        '--work-dir',
        tmp_path,
        '--resume',
        trained / 'epoch_2.pth',
        '--cfg-options',
        'train_cfg.max_epochs=3',
        'train_cfg.val_interval=5',
        env={'MMOFA_TEST_DATA': str(data)})
    log = result.stdout + result.stderr
    assert f'teacher from {trained / "teacher_teacher.pth"}' in log
    assert (tmp_path / 'epoch_3.pth').is_file()
    assert not (tmp_path / 'teacher_teacher.pth').exists()


def test_a_second_run_into_a_locked_work_dir_is_refused(data, tmp_path):
    holder = subprocess.Popen([
        sys.executable, '-c',
        'import sys, time; from mmofa.engine.work_dir_lock import '
        'WorkDirLock; WorkDirLock(sys.argv[1], "training").acquire(); '
        'print("held", flush=True); time.sleep(120)',
        str(tmp_path)
    ],
                              stdout=subprocess.PIPE,
                              text=True,
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
    try:
        assert holder.stdout.readline().strip() == 'held'
        result = run_tool(
            'tools/train.py',
            TINY,
            '--work-dir',
            tmp_path,
            env={'MMOFA_TEST_DATA': str(data)},
            check=False)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode != 0
    assert f'work dir {tmp_path} is in use by another run: pid ' \
        f'{holder.pid} on' in result.stderr
    assert 'started 20' in result.stderr
    assert not list(tmp_path.glob('epoch_*.pth'))


def test_a_stale_lock_is_taken_over_with_a_warning(tmp_path):
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    (tmp_path / LOCK_NAME).write_text(
        json.dumps(
            dict(
                pid=dead.pid,
                host=os.uname().nodename,
                started='2026-01-01T00:00:00',
                command='train.py')))
    lock = WorkDirLock(tmp_path, 'training')
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        lock.acquire()
    finally:
        logger.removeHandler(handler)
    warning = [r for r in records if r.levelno == logging.WARNING]
    assert len(warning) == 1
    assert 'taking over the stale lock' in warning[0].getMessage()
    assert f'pid {dead.pid}' in warning[0].getMessage()
    with pytest.raises(WorkDirInUseError, match=f'pid {os.getpid()}'):
        WorkDirLock(tmp_path, 'search').acquire()
    lock.release()
    assert not (tmp_path / LOCK_NAME).exists()
    with WorkDirLock(tmp_path):  # free again
        pass


def test_a_misspelled_option_is_refused_naming_the_close_key(tmp_path):
    result = run_tool(
        'tools/train.py',
        TINY,
        '--work-dir',
        tmp_path,
        '--cfg-options',
        'trian_cfg.max_epochs=1',
        check=False)
    assert result.returncode != 0
    assert "'trian_cfg' is not a key of this config nor of the Runner " \
        "(did you mean 'train_cfg'?)" in result.stderr
    assert '--allow-new-keys' in result.stderr


def test_checkpoints_get_the_usual_file_mode(trained):
    umask = os.umask(0)
    os.umask(umask)
    for name in ('epoch_1.pth', 'teacher_teacher.pth', 'last_checkpoint'):
        mode = (trained / name).stat().st_mode & 0o777
        assert mode == 0o666 & ~umask, (name, oct(mode))


def test_a_published_checkpoint_opens_without_any_allowlist(trained, tmp_path):
    """tools/publish_checkpoint.py keeps the weights and plain meta: a bare
    torch.load(weights_only=True), with no mmofa or MMEngine globals
    allowed, opens it; the model loads it strictly."""
    result = run_tool('tools/publish_checkpoint.py', trained / 'epoch_2.pth',
                      tmp_path / 'release.pth')
    published = next(tmp_path.glob('release-*.pth'))
    assert len(published.stem.split('-')[-1]) == 8
    assert "dropped ['message_hub', 'optimizer', 'param_schedulers']" in \
        result.stdout
    code = ('import sys, torch; c = torch.load(sys.argv[1], '
            'weights_only=True); print(sorted(c), sorted(c["meta"]))')
    bare = subprocess.run([sys.executable, '-c', code,
                           str(published)],
                          capture_output=True,
                          text=True,
                          check=True)
    assert bare.stdout.strip() == (
        "['meta', 'state_dict'] ['classes', 'mmofa_version', "
        "'torch_version']")
    from mmofa.apis import init_model
    init_model(REPO / TINY, published)
    # The training checkpoint itself needs mmofa's allowlist.
    refused = subprocess.run(
        [sys.executable, '-c', code,
         str(trained / 'epoch_2.pth')],
        capture_output=True,
        text=True)
    assert refused.returncode != 0
