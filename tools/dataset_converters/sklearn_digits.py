"""Write scikit-learn's handwritten digits (1797 grayscale 8x8 images, 10
classes, bundled with the package: no download) as an image folder, the
layout of configs/_base_/datasets/folder_bs64.py: a real small dataset to
try Once-for-All on one's own data with.

    pip install scikit-learn
    python tools/dataset_converters/sklearn_digits.py data/digits --size 32

Writes ``<out>/train/<digit>/*.png`` and ``<out>/val/<digit>/*.png``
(``--val-fraction`` of each class, 0.25 by default, the same split for a
given ``--seed``), grayscale, upscaled from 8x8 to ``--size`` pixels
(nearest neighbour, so no new information), values 0-16 scaled to 0-255.
"""
import argparse
import random
import sys
from pathlib import Path


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', help='folder to write train/ and val/ into')
    parser.add_argument(
        '--size', type=int, default=32, help='image side in pixels (32)')
    parser.add_argument('--val-fraction', type=float, default=0.25)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit('error: this converter needs scikit-learn: pip install '
                 'scikit-learn (make install installs it)')
    import numpy as np
    from PIL import Image
    if not 0 < args.val_fraction < 1:
        sys.exit(f'error: --val-fraction {args.val_fraction} must be '
                 'between 0 and 1')
    if args.size < 8:
        sys.exit(f'error: --size {args.size} is below the digits\' 8 px')
    out = Path(args.out)
    digits = load_digits()
    by_class = {}
    for index, label in enumerate(digits.target):
        by_class.setdefault(int(label), []).append(index)
    rng = random.Random(args.seed)
    written = {'train': 0, 'val': 0}
    for label, indices in sorted(by_class.items()):
        rng.shuffle(indices)
        num_val = max(1, round(len(indices) * args.val_fraction))
        for split, part in (('val', indices[:num_val]), ('train',
                                                         indices[num_val:])):
            folder = out / split / str(label)
            folder.mkdir(parents=True, exist_ok=True)
            for index in sorted(part):
                pixels = (digits.images[index] * (255 / 16)).round()
                image = Image.fromarray(pixels.astype(np.uint8), mode='L')
                image.resize((args.size, args.size),
                             Image.NEAREST).save(folder / f'{index:04d}.png')
                written[split] += 1
    print(f'wrote {written["train"]} training and {written["val"]} '
          f'validation images of {len(by_class)} classes to {out} '
          f'({args.size}x{args.size}, grayscale)')


if __name__ == '__main__':
    main()
