"""The own-dataset recipes of configs/custom/, as a user runs them: the
configs copied and my_dataset.py edited for a tiny grayscale image folder;
each way trains a few steps; a supernet is tested, searched and exported;
the exported subnet predicts the folder's class names; a checkpoint head of
another class count is refused, or replaced when the config says so."""
import shutil

import numpy as np
import pytest
import torch
from helpers import REPO, run_tool
from mmengine.config import Config

from mmofa.apis import inference_model, init_model, save_subnet
from mmofa.utils.config import update_config_file

CLASSES = ['cat', 'dog', 'owl']
# A narrow supernet (the demo's widths), for speed.
NARROW_OPTIONS = {
    'model.architecture.backbone.base_widths':
    [8, 8, 16, 16, 24, 32, 40, 128, 256],
    'model.architecture.head.in_channels': 256
}
NARROW = [
    f'{key}={value}'.replace(' ', '') for key, value in NARROW_OPTIONS.items()
]


def write_class_folders(root, classes, per_class=(6, 2), size=36, seed=0):
    """``root/{train,val}/<class>/*.png``: grayscale images, a brighter
    patch in a place of its own per class."""
    from PIL import Image
    rng = np.random.RandomState(seed)
    for split, count in zip(('train', 'val'), per_class):
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                image = rng.randint(0, 100, (size, size), dtype=np.uint8)
                image[:, label * 10:label * 10 + 10] += 120
                Image.fromarray(image, mode='L').save(folder / f'{i}.png')
    return root


def user_configs(tmp_path, data_root, num_classes):
    """configs/ copied and my_dataset.py filled in, as
    docs/custom_dataset.md tells a user to."""
    configs = tmp_path / 'configs'
    if not configs.exists():
        shutil.copytree(REPO / 'configs', configs)
    update_config_file(
        configs / 'custom' / 'my_dataset.py',
        dict(
            data_root=str(data_root),
            num_classes=num_classes,
            resolutions=[32, 40],
            batch_size=6,
            repeat=2,
            num_workers=0,
            calibrate_bn=dict(num_images=12, batch_size=6)))
    return configs / 'custom'


@pytest.fixture(scope='module')
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp('recipes')
    return (root, write_class_folders(root / 'pets', CLASSES),
            write_class_folders(root / 'two', ['a', 'b'], seed=1))


def test_progressive_shrinking_recipe_trains_searches_and_exports(folders):
    root, pets, _ = folders
    custom = user_configs(root / 'user3', pets, len(CLASSES))
    work = root / 'ps'
    run_tool('tools/train.py', custom / 'ofa_mbv3_ps.py', '--work-dir', work,
             '--cfg-options', *NARROW, 'train_cfg.max_epochs=1')
    checkpoint = work / 'epoch_1.pth'
    meta = torch.load(checkpoint, weights_only=False)['meta']
    assert list(meta['dataset_meta']['classes']) == CLASSES
    search = custom / 'search_small.py'
    search.write_text("_base_ = ['./search_custom.py']\n"
                      'test_cfg = dict(constraints=[dict(flops=5)], '
                      'population_size=4, generations=1)\n')
    run_tool('tools/search.py', search, checkpoint, '--work-dir',
             root / 'search', '--cfg-options', *NARROW)
    best = root / 'search' / 'search' / 'flops5'
    exported = init_model(best / 'best_config.py', best / 'best.pth')
    assert exported.dataset_meta['classes'] == CLASSES
    images = sorted((pets / 'val').glob('*/*.png'))
    predictions = inference_model(exported, images)
    assert len(predictions) == len(images)
    for prediction in predictions:
        assert prediction['pred_scores'].shape == (len(CLASSES), )
        assert prediction['pred_class'] == CLASSES[prediction['pred_label']]
    # The exported config tests the subnet as written.
    run_tool('tools/test.py', best / 'best_config.py', best / 'best.pth',
             '--work-dir', root / 'test_best')


def test_transfer_recipe_replaces_the_head_or_names_both_counts(folders):
    root, pets, two = folders
    source = root / 'source'
    custom3 = user_configs(root / 'user3b', pets, len(CLASSES))
    run_tool('tools/train.py', custom3 / 'ofa_mbv3_rss.py', '--work-dir',
             source, '--cfg-options', *NARROW, 'train_cfg.max_epochs=1',
             'custom_hooks.0.full_net_epochs=0')
    custom2 = user_configs(root / 'user2', two, 2)
    common = [
        'tools/train.py', custom2 / 'ofa_mbv3_transfer.py', '--cfg-options',
        *NARROW, f'load_from={source / "epoch_1.pth"}',
        'train_cfg.max_epochs=1'
    ]
    refused = run_tool(
        *common,
        'load_from_exclude=[]',
        '--work-dir',
        root / 'refused',
        check=False)
    assert refused.returncode != 0
    assert "The checkpoint's head has 3 classes, the model's 2." in \
        refused.stderr, refused.stderr[-3000:]
    run_tool(*common, '--work-dir', root / 'transfer')
    # Testing with the same config loads the trained head too.
    tested = run_tool('tools/test.py', custom2 / 'ofa_mbv3_transfer.py',
                      root / 'transfer' / 'epoch_1.pth', '--work-dir',
                      root / 'transfer_test', '--cfg-options', *NARROW)
    assert 'Load checkpoint from' in tested.stdout + tested.stderr
    assert "keep the model's initialisation" not in tested.stdout + \
        tested.stderr
    model = init_model(
        custom2 / 'ofa_mbv3_transfer.py',
        root / 'transfer' / 'epoch_1.pth',
        cfg_options=NARROW_OPTIONS)
    assert list(model.dataset_meta['classes']) == ['a', 'b']
    model.sample_subnet('min')
    paths = save_subnet(model, root / 'export' / 'min.pth')
    meta = torch.load(paths['checkpoint'], weights_only=False)['meta']
    assert meta['dataset_meta'] == dict(classes=['a', 'b'])
    assert Config.fromfile(
        paths['config']).dataset_meta == meta['dataset_meta']


def test_a_dataset_that_does_not_fit_the_head_or_stride_is_named(folders):
    """Before anything trains: a head of another class count than the
    folders, and a size below the network's stride, named with the
    figures."""
    from mmofa.engine.cli import build_runner
    from mmofa.structures import SubnetError
    root, pets, _ = folders
    custom = user_configs(root / 'user_wrong', pets, 5)
    cfg = Config.fromfile(custom / 'ofa_mbv3_ps.py')
    cfg.merge_from_dict(dict(NARROW_OPTIONS, work_dir=str(root / 'wrong')))
    runner = build_runner(cfg)
    with pytest.raises(
            ValueError,
            match=r'train_dataloader.dataset \(.*pets/train/?\) has 3 '
            r"classes, the model's head 5: set num_classes = 3"):
        runner.train()
    with pytest.raises(SubnetError, match='resolution = 16 is below 32'):
        init_model(
            custom / 'ofa_mbv3_ps.py',
            cfg_options=dict(NARROW_OPTIONS, **{'model.resolutions': [16]}))


def test_dataset_class_checks(folders, tmp_path, monkeypatch):
    """Evaluation folders of other classes than training are refused (their
    labels would mean other classes); unbalanced classes are warned of."""
    from types import SimpleNamespace

    from mmpretrain.datasets import CustomDataset

    from mmofa.engine import dataset_checks
    from mmofa.engine.dataset_checks import check_dataset_classes
    warnings = []
    monkeypatch.setattr(dataset_checks, 'print_log',
                        lambda message, **kwargs: warnings.append(message))
    root, pets, two = folders

    def loop(folder):
        dataset = CustomDataset(data_root=str(folder), pipeline=[])
        return SimpleNamespace(dataloader=SimpleNamespace(dataset=dataset))

    def runner(train=None, test=None, head=3):
        head = SimpleNamespace(num_classes=head)
        return SimpleNamespace(
            model=SimpleNamespace(head=head),
            _train_loop=train,
            _val_loop=None,
            _test_loop=test)

    check_dataset_classes(runner(loop(pets / 'train'), loop(pets / 'val')))
    partial = shutil.copytree(pets / 'val', tmp_path / 'partial')
    shutil.rmtree(partial / 'owl')  # cat 0, dog 1 as in training
    with pytest.raises(
            ValueError,
            match=r"test_dataloader.dataset \(.*partial/?\) lacks \['owl'\] "
            r'\(training: .*pets/train/?\)'):
        check_dataset_classes(
            runner(loop(pets / 'train'), loop(partial), head=None))
    with pytest.raises(
            ValueError,
            match=r"test_dataloader.dataset \(.*two/val/?\) lacks \['c'\] "
            r"and has \['b'\] unknown to the model \(the classes the "
            r'checkpoint was trained on\); its labels would mean other'):
        check_dataset_classes(
            runner(test=loop(two / 'val'), head=None), ['a', 'c'])
    unbalanced = write_class_folders(
        tmp_path / 'unbalanced', ['few', 'many'], per_class=(1, 1))
    for i in range(1, 12):
        shutil.copy(unbalanced / 'train/many/0.png',
                    unbalanced / f'train/many/{i}.png')
    check_dataset_classes(runner(loop(unbalanced / 'train'), head=2))
    assert len(warnings) == 1
    assert "'many' has 12 images, 'few' 1 (more than 10x)" in warnings[0]
