"""Read every image of a config's datasets once and list the unreadable
ones, before a long run meets them.

    python tools/analysis/check_dataset.py configs/demo/ofa_mbv3_demo_ps.py
    python tools/analysis/check_dataset.py CONFIG --splits train --workers 8

Each image is decoded as the training pipeline's loader decodes it (the
``backend`` of its ``LoadImageFromFile``, cv2 by default). Exit status 1
when any image fails; the list says which file and why.
"""
import argparse
import copy
import sys
from concurrent.futures import ThreadPoolExecutor

from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope

from mmofa.datasets import innermost_dataset_cfg
from mmofa.engine.progress import ProgressLog
from mmofa.registry import DATASETS
from mmofa.utils import register_all_modules

SPLITS = ('train', 'val', 'test')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument(
        '--splits', nargs='+', choices=SPLITS, default=list(SPLITS))
    parser.add_argument(
        '--workers',
        type=int,
        default=4,
        help='threads reading images (default 4)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help='overrides')
    return parser.parse_args()


def decoder_of(pipeline):
    """The image backend of the pipeline's loader (cv2 by default)."""
    for transform in pipeline or []:
        if 'LoadImageFromFile' in str(transform.get('type', '')):
            return transform.get('imdecode_backend', 'cv2')
    return 'cv2'


def check_image(path: str, backend: str):
    """None if ``path`` decodes to an image, else why not."""
    import mmcv
    from mmengine.fileio import get
    try:
        image = mmcv.imfrombytes(get(path), backend=backend)
    except Exception as error:  # any decoder failure
        return f'{type(error).__name__}: {error}'
    if image is None or image.size == 0:
        return 'not an image (decoder returned nothing)'
    return None


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    bad, checked, seen = [], 0, {}
    for split in args.splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        # Each image once, whatever wraps the dataset.
        dataset_cfg = dict(
            innermost_dataset_cfg(loader['dataset']), lazy_init=False)
        same = [s for s, c in seen.items() if c == dataset_cfg]
        if same:
            print(f'{split}: the {same[0]} dataset')
            continue
        seen[split] = copy.deepcopy(dataset_cfg)
        backend = decoder_of(dataset_cfg.get('pipeline'))
        dataset_cfg['pipeline'] = []
        with DefaultScope.overwrite_default_scope(
                cfg.get('default_scope', 'mmofa')):
            dataset = DATASETS.build(dataset_cfg)
        paths = [
            dataset.get_data_info(i)['img_path'] for i in range(len(dataset))
        ]
        progress = ProgressLog(
            len(paths), f'{split}: images read', interval=10.0)
        with ThreadPoolExecutor(max(1, args.workers)) as pool:
            for path, error in zip(
                    paths, pool.map(lambda p: check_image(p, backend), paths)):
                if error is not None:
                    bad.append((split, path, error))
                progress.update()
        checked += len(paths)
        print(f'{split}: {len(paths)} images, '
              f'{sum(1 for b in bad if b[0] == split)} unreadable')
    if not checked:
        sys.exit(f'{args.config} has no dataloader for {args.splits}')
    for split, path, error in bad:
        print(f'unreadable ({split}): {path}: {error}')
    if bad:
        sys.exit(f'{len(bad)} of {checked} images cannot be read: fix or '
                 'remove them, or set on_error=\'skip\' in '
                 'mmofa.LoadImageFromFile')
    print(f'all {checked} images read')


if __name__ == '__main__':
    main()
