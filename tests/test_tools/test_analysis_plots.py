"""The analysis tools a person looks at: training curves with stage
boundaries, the staged learning-rate schedule, the dataset check."""
import pytest
from helpers import REPO, make_imagenet_like, run_tool
from PIL import Image

TINY = REPO / 'tests/configs/tiny_ps.py'


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_imagenet_like(
        tmp_path_factory.mktemp('tiny'), num_train=8, num_val=4)


@pytest.fixture(scope='module')
def run(data, tmp_path_factory):
    """The tiny schedule's first 3 epochs (teacher, kernel, depth: its
    distillation loss starts in the second stage), validated twice."""
    work = tmp_path_factory.mktemp('run')
    run_tool(
        'tools/train.py',
        TINY,
        '--work-dir',
        work,
        '--cfg-options',
        'train_cfg.max_epochs=3',
        'train_cfg.val_interval=2',
        env={'MMOFA_TEST_DATA': str(data)})
    return work


def png_size(path):
    assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    with Image.open(path) as image:
        return image.size


def test_curves_per_subnet_with_stage_boundaries(run, tmp_path):
    out = tmp_path / 'curves.png'
    result = run_tool('tools/analysis/analyze_logs.py', 'plot_curve', run,
                      '--out', out)
    assert '3 stage starts' in result.stdout
    # Keys of some stages only (loss_kd from the kernel stage, subnet1 in
    # depth) are drawn where they exist.
    assert "'subnet0/loss_kd'" in result.stdout
    assert "'subnet1/loss_cls'" in result.stdout
    assert png_size(out) == (1200, 1152)  # 3 panels: losses, lr, validation
    assert out.stat().st_size > 20000


def test_curves_of_chosen_keys_and_unknown_keys(run, tmp_path):
    out = tmp_path / 'kd.png'
    run_tool('tools/analysis/analyze_logs.py', 'plot_curve', run, '--keys',
             'subnet0/loss_kd', 'max_R32/accuracy/top1', '--out', out)
    assert png_size(out) == (1200, 768)  # losses and validation
    wrong = run_tool(
        'tools/analysis/analyze_logs.py',
        'plot_curve',
        run,
        '--keys',
        'loss_kdd',
        '--out',
        out,
        check=False)
    assert wrong.returncode != 0
    assert "keys ['loss_kdd'] are in none of the records" in wrong.stderr
    assert 'subnet0/loss_kd' in wrong.stderr
    timing = run_tool('tools/analysis/analyze_logs.py', 'cal_train_time', run)
    assert 'iterations logged: 6' in timing.stdout


def test_staged_schedule_plot(tmp_path):
    out = tmp_path / 'lr.png'
    result = run_tool('tools/visualization/vis_scheduler.py',
                      REPO / 'configs/ofa/ofa_mbv3_w10_ps_8xb64_in1k.py',
                      '--dataset-size', '1281167', '--ngpus', '32', '--out',
                      out)
    # The official stages' peaks: 2.6 (teacher), then 0.96, 0.08, 0.24.
    assert '6 stages, peak lr 2.6' in result.stdout
    assert png_size(out) == (1200, 480)
    assert out.stat().st_size > 20000


def test_dataset_check_lists_unreadable_images(data, tmp_path):
    import shutil
    broken = tmp_path / 'data'
    shutil.copytree(data, broken)
    (broken / 'train' / '0003.png').write_bytes(b'not an image')
    (broken / 'val' / '0001.png').write_bytes(b'')
    result = run_tool(
        'tools/analysis/check_dataset.py',
        TINY,
        env={'MMOFA_TEST_DATA': str(broken)},
        check=False)
    assert result.returncode == 1
    assert 'train: 8 images, 1 unreadable' in result.stdout
    assert 'val: 4 images, 1 unreadable' in result.stdout
    assert f'unreadable (train): {broken / "train" / "0003.png"}' in \
        result.stdout
    assert 'test: the val dataset' in result.stdout
    assert '2 of 12 images cannot be read' in result.stderr
    clean = run_tool(
        'tools/analysis/check_dataset.py',
        TINY,
        env={'MMOFA_TEST_DATA': str(data)})
    assert 'all 12 images read' in clean.stdout
