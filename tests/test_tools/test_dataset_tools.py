"""tools/analysis/dataset_stats.py and
tools/dataset_converters/sklearn_digits.py on folders the tests write."""
import json
import shutil

import numpy as np
import pytest
from helpers import REPO, run_tool
from mmengine.config import Config
from PIL import Image

from mmofa.utils.config import update_config_file


def test_dataset_stats_of_a_folder(tmp_path):
    """Mean/std over every pixel (grayscale as three equal channels),
    classes in CustomDataset's order, imbalance and unreadable files."""
    train = tmp_path / 'train'
    for name in ('cat', 'dog'):
        (train / name).mkdir(parents=True)
    for i in range(8):
        Image.fromarray(np.full((20, 24, 3), (100, 50, 0),
                                np.uint8)).save(train / 'cat' / f'{i}.png')
    Image.fromarray(np.full((16, 16), 200,
                            np.uint8)).save(train / 'dog' / '0.png')
    (train / 'dog' / 'broken.jpg').write_text('not an image')
    config = tmp_path / 'my_dataset.py'
    shutil.copy(REPO / 'configs/custom/my_dataset.py', config)
    result = run_tool('tools/analysis/dataset_stats.py', train, '--json',
                      tmp_path / 'stats.json', '--update-config', config)
    stats = json.loads((tmp_path / 'stats.json').read_text())
    # 8 x 480 pixels of (100, 50, 0) and 256 pixels of (200, 200, 200).
    expected = (8 * 480 * np.array([100, 50, 0]) + 256 * 200) / 4096
    assert np.allclose(stats['mean'], expected, atol=1e-3)
    expected_sq = (8 * 480 * np.array([100, 50, 0])**2 + 256 * 200**2) / 4096
    assert np.allclose(
        stats['std'], np.sqrt(expected_sq - expected**2), atol=1e-3)
    assert stats['classes'] == ['cat', 'dog']
    assert stats['counts'] == {'cat': 8, 'dog': 2}
    assert stats['grayscale_images'] == 1 and stats['smallest_side'] == 16
    assert len(stats['unreadable']) == 1
    assert 'warning: classes are imbalanced (8 vs 2 images' in result.stdout
    assert 'data_preprocessor = dict(num_classes=2, mean=' in result.stdout
    # The user's dataset config, filled in.
    filled = Config.fromfile(config)
    assert filled.data_root == str(tmp_path)
    assert filled.num_classes == 2 and filled.preprocessor.num_classes == 2
    assert filled.mean == stats['mean'] and filled.std == stats['std']
    assert filled.train_dataloader.dataset.dataset.data_root == str(tmp_path)


def test_update_config_file_sets_one_line_assignments_only(tmp_path):
    config = tmp_path / 'c.py'
    config.write_text(
        "a = 1\nb = dict(\n    x=1)\nc = [1, 2]  # goes with the value\n")
    update_config_file(config, dict(a='x', c=[3]))
    assert config.read_text() == "a = 'x'\nb = dict(\n    x=1)\nc = [3]\n"
    with pytest.raises(
            ValueError,
            match=r"'b' must be assigned once, on "
            'one line of its own'):
        update_config_file(config, dict(b=2))
    with pytest.raises(ValueError, match="'d' must be assigned once.*found 0"):
        update_config_file(config, dict(d=2))


def test_dataset_stats_refuses_a_folder_without_classes(tmp_path):
    result = run_tool('tools/analysis/dataset_stats.py', tmp_path, check=False)
    assert result.returncode != 0
    assert f'{tmp_path} has no class folders' in result.stderr


def test_sklearn_digits_as_an_image_folder(tmp_path):
    result = run_tool('tools/dataset_converters/sklearn_digits.py', tmp_path,
                      '--size', '16')
    assert 'wrote 1347 training and 450 validation images of 10 classes' \
        in result.stdout
    assert sorted(p.name for p in (tmp_path / 'val').iterdir()) == \
        [str(d) for d in range(10)]
    image = Image.open(next((tmp_path / 'train' / '3').iterdir()))
    assert image.mode == 'L' and image.size == (16, 16)
    # The same split for the same seed.
    again = tmp_path / 'again'
    run_tool('tools/dataset_converters/sklearn_digits.py', again, '--size',
             '16')
    assert sorted(p.name for p in (again / 'val' / '7').iterdir()) == \
        sorted(p.name for p in (tmp_path / 'val' / '7').iterdir())
