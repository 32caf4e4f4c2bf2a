"""Convert official Once-for-All and MMRazor checkpoints and subnets.

Sources (detected from their keys):

* an official OFA MobileNetV3 supernet, e.g. ``ofa_mbv3_d234_e346_k357_w1.0``
  (``blocks.N.mobile_inverted_conv.`` or ``blocks.N.conv.`` keys, a raw state
  dict or ``{'state_dict': ...}``), width 1.0 or 1.2 (detected);
* an official static full network, e.g. the teacher ``ofa_D4_E6_K7``: it
  becomes a supernet with identity kernel transforms;
* an official specialised subnet from the model zoo, MobileNetV3 (e.g.
  ``note8_lat@22ms_top1@70.4_finetune@25``) or ResNet50D (e.g.
  ``resnet50D_MAC@4.1B_top1@79.8``, a subnet of the ofa_resnet50 space):
  its folder (``net.config``, ``init``, ``run.config``) or weights with
  ``--net-config`` (and ``--run-config``); it becomes a static mmofa subnet
  (checkpoint, subnet YAML with the resolution of ``run.config``, config);
* an MMRazor OFA supernet: its state dict (``architecture.`` keys, the
  channel masks checked and dropped) or a checkpoint of MMRazor's runner
  (meta, message hub and optimizer ignored, numpy 1.x pickles accepted);
* an MMRazor static subnet checkpoint (the sliced model MMRazor's search
  saves, e.g. the released ``ofa_mobilenet_subnet_8xb256_in1k_note8_lat@
  22ms...``; keys with or without ``architecture.``) with ``--subnet`` the
  YAML that defines it: it becomes a static mmofa subnet;
* an official OFA ResNet50 supernet, ``ofa_resnet50_d0-1-2_e0.2-0.25-0.35_
  w0.65-0.8-1.0`` (``input_stem.`` keys, raw or ``{'state_dict': ...}``),
  into configs/ofa_resnet/ofa_resnet50_supernet.py;
* a subnet file: MMRazor alias YAML or official arch dict JSON (MobileNetV3
  ``ks/e/d`` or ResNet ``d/e/w``), written as mmofa's subnet YAML.

Nothing is written unless every source key is used and every mmofa key is
filled with the right shape.

    python tools/convert_ofa_ckpt.py ofa_mbv3_d234_e346_k357_w1.0 ofa_w10.pth
    python tools/convert_ofa_ckpt.py \
        ofa_resnet50_d0-1-2_e0.2-0.25-0.35_w0.65-0.8-1.0 ofa_resnet50.pth
    python tools/convert_ofa_ckpt.py \
        ofa_specialized/note8_lat@22ms_top1@70.4_finetune@25 lat22.pth
    python tools/convert_ofa_ckpt.py \
        ofa_specialized/resnet50D_MAC@4.1B_top1@79.8 resnet50D_4.1B.pth
    python tools/convert_ofa_ckpt.py mmrazor_subnet_lat22.pth lat22.pth \
        --subnet OFA_SUBNET_NOTE8_LAT22.yaml
"""
import argparse
import sys
from pathlib import Path

from mmofa.apis.convert import ConversionError, convert_ofa_checkpoint
from mmofa.structures import SubnetError
from mmofa.utils.paths import check_writable_file

REPO = Path(__file__).resolve().parents[1]
SUPERNET_CONFIGS = {
    1.0: REPO / 'configs/ofa/ofa_mbv3_w10_supernet.py',
    1.2: REPO / 'configs/ofa/ofa_mbv3_w12_supernet.py',
}
RESNET50_CONFIG = REPO / 'configs/ofa_resnet/ofa_resnet50_supernet.py'


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[2:]))
    parser.add_argument(
        'src', help='checkpoint, model-zoo folder or subnet '
        'file')
    parser.add_argument(
        'dst', help='file to write (.pth, or .yaml for a '
        'subnet file)')
    parser.add_argument(
        '--width',
        type=float,
        choices=sorted(SUPERNET_CONFIGS),
        help='expected width (detected when omitted)')
    parser.add_argument(
        '--arch',
        choices=['auto', 'ofa_mbv3', 'ofa_resnet50'],
        default='auto',
        help='source architecture (checked against the source; a subnet '
        'file of ofa_resnet50 is read as a ResNet subnet)')
    parser.add_argument(
        '--net-config',
        help="a specialised subnet's "
        'net.config (weights given as src)')
    parser.add_argument('--run-config', help="its run.config (image size)")
    parser.add_argument(
        '--subnet',
        help='the subnet YAML (MMRazor or mmofa) of an MMRazor static '
        'subnet checkpoint given as src')
    parser.add_argument(
        '--config',
        help='supernet config to convert into (default: the OFA '
        'MobileNetV3 of the width, or the OFA ResNet50)')
    return parser.parse_args()


def main():
    args = parse_args()
    check_writable_file(args.dst, 'DST')

    def config_for_width(width):
        """--config for any width; else the released supernet of a
        detected width (None when no released width fits)."""
        if args.config:
            return args.config
        return None if width is None else str(SUPERNET_CONFIGS[width])

    try:
        result = convert_ofa_checkpoint(
            args.src,
            args.dst,
            config_for_width,
            width=args.width,
            net_config=args.net_config,
            run_config=args.run_config,
            resnet_config=args.config or str(RESNET50_CONFIG),
            arch=args.arch,
            subnet=args.subnet)
    except (ConversionError, SubnetError) as error:
        sys.exit(f'error: {error}')
    width = '' if result['width'] is None else f', width {result["width"]}'
    print(f'converted {args.src} ({result["kind"]}{width}):')
    for kind, path in result['paths'].items():
        print(f'  {kind:<10} {path}')


if __name__ == '__main__':
    main()
