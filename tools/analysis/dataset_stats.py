"""Statistics of an image dataset for its config: per-channel mean and std,
classes and their counts, grayscale images, image sizes.

    python tools/analysis/dataset_stats.py data/my_dataset/train
    python tools/analysis/dataset_stats.py data/ds --ann-file meta/train.txt
    python tools/analysis/dataset_stats.py data/ds/train --json stats.json
    python tools/analysis/dataset_stats.py data/my_dataset/train \
        --update-config configs/custom/my_dataset.py

The folder holds one sub-folder per class (mmpretrain's ``CustomDataset``
layout), or ``--ann-file`` lists ``relative/path label`` lines. Mean and std
are of RGB pixel values 0-255 over the images read (all, or ``--num-images``
spread over the set), as ``data_preprocessor`` takes them; grayscale images
count as three equal channels, as the loader gives them. Printed: the
``data_preprocessor`` lines to paste into the config, the classes in order
(class folders sorted, as ``CustomDataset`` orders them), a warning when the
largest class has more than ``--imbalance`` times the images of the smallest,
and the smallest image side.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from mmofa.engine.progress import ProgressLog

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                  '.tiff', '.webp')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('folder', help='class folders, or the images root')
    parser.add_argument('--ann-file', help='lines "relative/path label"')
    parser.add_argument(
        '--num-images',
        type=int,
        help='read this many images, spread over the set (default: all)')
    parser.add_argument(
        '--imbalance',
        type=float,
        default=3.0,
        help='warn when the largest class has more than this many times '
        'the images of the smallest (default 3)')
    parser.add_argument('--json', help='also write the statistics here')
    parser.add_argument(
        '--update-config',
        metavar='CONFIG',
        help='write num_classes, mean, std and (class folders: the parent '
        'of FOLDER) data_root into this copy of configs/custom/my_dataset.py')
    return parser.parse_args()


def list_samples(folder: Path, ann_file=None):
    """``(path, class name)`` pairs and the class names in label order."""
    if ann_file is not None:
        samples = []
        for number, line in enumerate(
                Path(ann_file).read_text().splitlines(), 1):
            if not line.strip():
                continue
            parts = line.rsplit(maxsplit=1)
            if len(parts) != 2 or not parts[1].lstrip('-').isdigit():
                sys.exit(f'error: {ann_file}:{number}: expected "relative/'
                         f'path label", got {line!r}')
            samples.append((folder / parts[0], parts[1]))
        classes = sorted({label for _, label in samples}, key=int)
        return samples, classes
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not classes:
        sys.exit(f'error: {folder} has no class folders (give --ann-file '
                 'for a list file)')
    samples = [(path, name) for name in classes
               for path in sorted((folder / name).rglob('*'))
               if path.suffix.lower() in IMAGE_SUFFIXES]
    return samples, classes


def main():
    args = parse_args()
    folder = Path(args.folder)
    if not folder.is_dir():
        sys.exit(f'error: {folder} is not a folder')
    samples, classes = list_samples(folder, args.ann_file)
    if not samples:
        sys.exit(f'error: no images ({", ".join(IMAGE_SUFFIXES)}) under '
                 f'{folder}')
    counts = {name: 0 for name in classes}
    for _, name in samples:
        counts[name] += 1
    chosen = samples
    if args.num_images and args.num_images < len(samples):
        picks = np.linspace(0, len(samples) - 1, args.num_images).round()
        chosen = [samples[int(i)] for i in picks]

    total = np.zeros(3)
    total_sq = np.zeros(3)
    pixels = 0
    grayscale, smallest, unreadable = 0, None, []
    progress = ProgressLog(len(chosen), 'images read', interval=10)
    for path, _ in chosen:
        try:
            with Image.open(path) as image:
                if image.mode in ('L', 'LA', 'I', 'I;16', '1'):
                    grayscale += 1
                rgb = np.asarray(image.convert('RGB'), dtype=np.float64)
        except OSError as error:
            unreadable.append(f'{path}: {error}')
            progress.update()
            continue
        side = min(rgb.shape[:2])
        smallest = side if smallest is None else min(smallest, side)
        flat = rgb.reshape(-1, 3)
        total += flat.sum(0)
        total_sq += (flat**2).sum(0)
        pixels += flat.shape[0]
        progress.update()
    if not pixels:
        sys.exit('error: no image could be read:\n  ' +
                 '\n  '.join(unreadable[:10]))
    mean = total / pixels
    std = np.sqrt(np.maximum(total_sq / pixels - mean**2, 0))
    stats = dict(
        num_images=len(samples),
        num_read=len(chosen) - len(unreadable),
        num_classes=len(classes),
        classes=classes,
        counts=counts,
        mean=[round(float(m), 3) for m in mean],
        std=[round(float(s), 3) for s in std],
        grayscale_images=grayscale,
        smallest_side=smallest,
        unreadable=unreadable)

    print(f'{folder}: {len(samples)} images, {len(classes)} classes '
          f'({stats["num_read"]} read)')
    for name in classes:
        print(f'  {name:<24} {counts[name]}')
    most, least = max(counts.values()), min(counts.values())
    if least == 0 or most > args.imbalance * least:
        print(f'warning: classes are imbalanced ({most} vs {least} images; '
              f'more than {args.imbalance:g}x): consider a class-balanced '
              'sampler or weights in the loss')
    if grayscale:
        print(f'{grayscale} grayscale images: read as three equal channels')
    print(f'smallest image side: {smallest} px (a training resolution '
          'above it upsamples)')
    for line in unreadable[:10]:
        print(f'unreadable: {line}')
    print('\nFor the config:')
    print(f'data_preprocessor = dict(num_classes={len(classes)}, '
          f'mean={stats["mean"]}, std={stats["std"]}, to_rgb=True)')
    print(f'classes = {classes!r}')
    if args.json:
        Path(args.json).write_text(json.dumps(stats, indent=2))
        print(f'wrote {args.json}')
    if args.update_config:
        from mmofa.utils.config import update_config_file
        values = dict(
            num_classes=len(classes), mean=stats['mean'], std=stats['std'])
        if not args.ann_file:  # FOLDER is data_root/train
            values = dict(data_root=str(folder.resolve().parent), **values)
        try:
            update_config_file(args.update_config, values)
        except (OSError, ValueError) as error:
            sys.exit(f'error: --update-config: {error}')
        print(f'wrote {", ".join(values)} into {args.update_config}')


if __name__ == '__main__':
    main()
