"""Sample subnets of a supernet, print their cost, export one and check it.

Builds the supernet from its config (weights from ``--checkpoint`` or the
official initialisation), takes the max and min subnets, ``--num-subnets``
random ones (seeded) and any ``--subnets`` files, prints a table of MFLOPs
(multiply-accumulates) and parameters, exports one to a static checkpoint,
subnet YAML and config, and checks on a few images that the static model
gives the supernet's logits.

    python tools/analysis/sample_subnets.py \
        configs/ofa/ofa_mbv3_w10_supernet.py \
        --images data/demo/val --work-dir work_dirs/sample_subnets
"""
import argparse
import random
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from mmofa.apis import init_model, save_subnet


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='supernet config file')
    parser.add_argument('--checkpoint', help='supernet weights (optional)')
    parser.add_argument(
        '--num-subnets', type=int, default=6, help='random subnets to sample')
    parser.add_argument(
        '--subnets',
        nargs='*',
        default=[],
        help='subnet files (mmofa / MMRazor YAML, arch JSON)')
    parser.add_argument('--seed', type=int, default=0, help='sampling seed')
    parser.add_argument(
        '--resolution',
        type=int,
        default=224,
        help='input size for subnets without their own')
    parser.add_argument(
        '--export', default='random_0', help='name of the subnet to export')
    parser.add_argument(
        '--images',
        help='folder of images for the check '
        '(searched recursively); random inputs if omitted')
    parser.add_argument('--num-images', type=int, default=8)
    parser.add_argument('--work-dir', default='work_dirs/sample_subnets')
    return parser.parse_args()


def load_images(folder: str, count: int, size: int, model) -> torch.Tensor:
    """``count`` images resized to ``size`` and normalised by the model."""
    paths = sorted(
        p for p in Path(folder).rglob('*')
        if p.suffix.lower() in ('.png', '.jpg', '.jpeg'))[:count]
    if not paths:
        raise FileNotFoundError(f'no images under {folder!r}')
    # BGR uint8 CHW, as mmcv loads images for ClsDataPreprocessor(to_rgb).
    tensors = [
        torch.from_numpy(
            np.ascontiguousarray(
                np.asarray(
                    Image.open(p).convert('RGB').resize(
                        (size, size),
                        Image.BILINEAR))[..., ::-1])).permute(2, 0, 1)
        for p in paths
    ]
    return model.data_preprocessor({'inputs': tensors}, False)['inputs']


def main():
    args = parse_args()
    model = init_model(args.config, args.checkpoint)
    generator = random.Random(args.seed)

    subnets = {
        'max': model.sample_subnet('max'),
        'min': model.sample_subnet('min')
    }
    for i in range(args.num_subnets):
        subnets[f'random_{i}'] = model.sample_subnet('random', generator)
    for path in args.subnets:
        subnets[Path(path).stem] = model.backbone.parse_subnet(path)
    if args.export not in subnets:
        sys.exit(f'--export {args.export!r} is not one of {list(subnets)}')

    width = max(len('subnet'), *map(len, subnets))
    header = (f'{"subnet":<{width}} {"res":>4} {"depth":<10} {"MFLOPs":>8} '
              f'{"Params(M)":>9}')
    print(header)
    print('-' * len(header))
    for name, subnet in subnets.items():
        resolution = subnet.resolution or args.resolution
        cost = model.estimate_resources(subnet, resolution)
        depth = ','.join(map(str, subnet.depth))
        print(f'{name:<{width}} {resolution:>4} {depth:<10} '
              f'{cost["macs"] / 1e6:>8.1f} {cost["params"] / 1e6:>9.2f}')

    subnet = subnets[args.export]
    model.set_subnet(subnet)
    paths = save_subnet(model, Path(args.work_dir) / f'{args.export}.pth')
    print(f'\nexported {args.export}:')
    for kind, path in paths.items():
        print(f'  {kind:<10} {path}')

    resolution = subnet.resolution or args.resolution
    static = init_model(paths['config'], paths['checkpoint'])
    if args.images:
        inputs = load_images(args.images, args.num_images, resolution, model)
        source = f'{len(inputs)} images from {args.images}'
    else:
        inputs = torch.randn(args.num_images, 3, resolution, resolution)
        source = f'{len(inputs)} random inputs'
    with torch.no_grad():
        diff = (model(inputs) - static(inputs)).abs().max().item()
    print(f'static subnet vs supernet on {source} at {resolution}px: '
          f'max |logit difference| = {diff:.2e}')
    if diff > 1e-5:
        sys.exit('the exported subnet does not reproduce the supernet')


if __name__ == '__main__':
    main()
