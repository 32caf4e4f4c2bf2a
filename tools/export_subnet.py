"""Export one subnet of a trained supernet as a static model.

Writes the static checkpoint (``--out``), the subnet in mmofa's YAML format
next to it and a config that rebuilds the static model, e.g. for
``tools/test.py``:

    python tools/export_subnet.py configs/ofa/ofa_mbv3_w10_supernet.py \
        supernet.pth subnet.yaml --out work_dirs/export/subnet.pth

``--format mmrazor`` writes what MMRazor 1.0 uses instead (OFA MobileNetV3):
the static checkpoint in the layout of its released subnets (keys
``architecture.backbone...`` and its two channel masks; its
``ofa_mobilenet_subnet_8xb256_in1k.py`` loads it strictly) and the subnet as
its alias YAML, always with ``input_shape`` (224 when the subnet has no
resolution; MMRazor takes 128, 140, 144, 152, 192, 204, 224 or 256).
"""
import argparse

from mmofa.apis import init_model, save_subnet, save_subnet_for_mmrazor
from mmofa.structures import SubnetError
from mmofa.utils.paths import check_writable_file


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('config', help='supernet config file')
    parser.add_argument('checkpoint', help='supernet checkpoint')
    parser.add_argument(
        'subnet',
        help='subnet file: mmofa or MMRazor YAML, or an official '
        'arch dict as JSON/YAML')
    parser.add_argument(
        '--out', required=True, help='static checkpoint to write (.pth)')
    parser.add_argument(
        '--format',
        choices=['mmofa', 'mmrazor'],
        default='mmofa',
        help="mmofa: checkpoint, mmofa YAML and config; mmrazor: MMRazor's "
        'static checkpoint layout and alias YAML')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args()


def main():
    args = parse_args()
    check_writable_file(args.out, '--out')
    model = init_model(args.config, args.checkpoint, device=args.device)
    subnet = model.set_subnet(args.subnet)
    cost = model.estimate_resources()
    if args.format == 'mmrazor':
        try:
            paths = save_subnet_for_mmrazor(model, args.out)
        except SubnetError as error:
            raise SystemExit(f'error: {error}; nothing was written')
    else:
        paths = save_subnet(model, args.out)
    print(f'subnet {args.subnet}: {cost["macs"] / 1e6:.1f} MFLOPs, '
          f'{cost["params"] / 1e6:.2f} M params at '
          f'{subnet.resolution or 224}px')
    for kind, path in paths.items():
        print(f'  {kind:<10} {path}')


if __name__ == '__main__':
    main()
