"""Write the bundled demo dataset: synthetic shapes, same bytes on every run.

Ten classes (five shapes x two colour families) on noisy backgrounds, in the
folder layout of ImageNet (``train/<class>/*.png``, ``val/<class>/*.png``)
that mmpretrain's ``CustomDataset`` reads. Nothing is downloaded.

    python tools/dataset_converters/make_demo_dataset.py data/demo
"""
import argparse
import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

SHAPES = ('circle', 'square', 'triangle', 'cross', 'ring')
COLOURS = ('warm', 'cool')
CLASSES = tuple(f'{colour}_{shape}' for colour in COLOURS for shape in SHAPES)


def _shape_mask(shape: str, size: int, rng: np.random.RandomState):
    """A boolean mask of one shape at a random place and scale."""
    radius = rng.uniform(0.22, 0.38) * size
    cy, cx = rng.uniform(radius, size - radius, size=2)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    dy, dx = y - cy, x - cx
    if shape == 'circle':
        return dy**2 + dx**2 <= radius**2
    if shape == 'square':
        return (np.abs(dy) <= radius * 0.8) & (np.abs(dx) <= radius * 0.8)
    if shape == 'triangle':
        return (dy <= radius * 0.7) & (dy >= -radius) & (
            np.abs(dx) <= (dy + radius) * 0.6)
    if shape == 'cross':
        arm = radius * 0.3
        return ((np.abs(dy) <= arm) &
                (np.abs(dx) <= radius)) | ((np.abs(dx) <= arm) &
                                           (np.abs(dy) <= radius))
    if shape == 'ring':
        dist = dy**2 + dx**2
        return (dist <= radius**2) & (dist >= (radius * 0.55)**2)
    raise ValueError(f'unknown shape {shape!r}')


def make_image(label: int, size: int, seed: int) -> np.ndarray:
    """One ``size x size x 3`` uint8 image of class ``label``."""
    rng = np.random.RandomState(seed)
    colour, shape = CLASSES[label].split('_')
    background = rng.uniform(40, 215, size=3)
    image = background + rng.normal(0, 18, size=(size, size, 3))
    if colour == 'warm':
        foreground = [
            rng.uniform(170, 255),
            rng.uniform(40, 150),
            rng.uniform(0, 70)
        ]
    else:
        foreground = [
            rng.uniform(0, 70),
            rng.uniform(60, 170),
            rng.uniform(170, 255)
        ]
    mask = _shape_mask(shape, size, rng)
    image[mask] = np.asarray(foreground) + rng.normal(
        0, 10, size=(mask.sum(), 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def write_split(root: Path, split: str, per_class: int, size: int,
                seed: int) -> int:
    count = 0
    for label, name in enumerate(CLASSES):
        folder = root / split / name
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            key = f'{seed}/{split}/{label}/{index}'.encode()
            image_seed = int.from_bytes(
                hashlib.sha256(key).digest()[:4], 'little')
            Image.fromarray(make_image(label, size, image_seed)).save(
                folder / f'{index:04d}.png', optimize=False)
            count += 1
    return count


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='where to write train/ and val/')
    parser.add_argument('--train-per-class', type=int, default=100)
    parser.add_argument('--val-per-class', type=int, default=20)
    parser.add_argument('--size', type=int, default=64, help='image side')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    root = Path(args.out_dir)
    n_train = write_split(root, 'train', args.train_per_class, args.size,
                          args.seed)
    n_val = write_split(root, 'val', args.val_per_class, args.size, args.seed)
    print(f'wrote {n_train} training and {n_val} validation images '
          f'({len(CLASSES)} classes, {args.size}px) to {root}')


if __name__ == '__main__':
    main()
