"""Export one subnet of a trained supernet as a static model.

Writes the static checkpoint (``--out``), the subnet in mmofa's YAML format
next to it and a config that rebuilds the static model, e.g. for
``tools/test.py``:

    python tools/export_subnet.py configs/ofa/ofa_mbv3_w10_supernet.py \
        supernet.pth subnet.yaml --out work_dirs/export/subnet.pth
"""
import argparse

from mmofa.apis import init_model, save_subnet
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
    parser.add_argument('--device', default='cpu')
    return parser.parse_args()


def main():
    args = parse_args()
    check_writable_file(args.out, '--out')
    model = init_model(args.config, args.checkpoint, device=args.device)
    subnet = model.set_subnet(args.subnet)
    cost = model.estimate_resources()
    paths = save_subnet(model, args.out)
    print(f'subnet {args.subnet}: {cost["macs"] / 1e6:.1f} MFLOPs, '
          f'{cost["params"] / 1e6:.2f} M params at '
          f'{subnet.resolution or 224}px')
    for kind, path in paths.items():
        print(f'  {kind:<10} {path}')


if __name__ == '__main__':
    main()
