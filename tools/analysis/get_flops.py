"""MFLOPs (multiply-accumulates) and parameters of one subnet.

    python tools/analysis/get_flops.py CONFIG                 # max subnet
    python tools/analysis/get_flops.py CONFIG min --resolution 160
    python tools/analysis/get_flops.py CONFIG best.yaml       # any subnet form

SUBNET is ``max`` (default), ``min``, a subnet file (mmofa / MMRazor YAML,
official arch JSON) or any string the backbone parses (e.g. an arch code).
A supernet config is costed analytically; a static model config (an
exported subnet) is counted by hooks on a forward pass.
"""
import argparse

from mmengine.config import DictAction

from mmofa.apis import init_model
from mmofa.models.task_modules import count_macs_params
from mmofa.structures import check_resolution

#: The total stride of every network mmofa exports (5 halvings).
STATIC_MIN_RESOLUTION = 32


def parse_args():
    parser = argparse.ArgumentParser(
        description='MFLOPs and params of one subnet')
    parser.add_argument('config', help='supernet (or static model) config')
    parser.add_argument(
        'subnet', nargs='?', default='max', help='max, min or a subnet')
    parser.add_argument(
        '--resolution',
        type=int,
        help="input size (default: the subnet's own, else 224)")
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries')
    return parser.parse_args()


def subnet_cost(model, subnet: str, resolution=None) -> dict:
    """``subnet``, ``resolution``, ``macs`` and ``params`` of a subnet of
    a supernet, or of a static model as it is (``subnet`` ignored)."""
    if not hasattr(model, 'estimate_resources'):
        size = resolution or getattr(model, 'resolution', None) or 224
        check_resolution(size, '--resolution', STATIC_MIN_RESOLUTION)
        macs, params = count_macs_params(model, (1, 3, size, size))
        return dict(subnet='static', resolution=size, macs=macs, params=params)
    if subnet in ('max', 'min'):
        parsed = model.sample_subnet(subnet)
    else:
        parsed = model.backbone.parse_subnet(subnet, 'SUBNET')
    size = resolution or parsed.resolution or 224
    cost = model.estimate_resources(parsed, size, '--resolution')
    return dict(subnet=subnet, resolution=size, **cost)


def main():
    args = parse_args()
    model = init_model(args.config, cfg_options=args.cfg_options)
    cost = subnet_cost(model, args.subnet, args.resolution)
    print(f'subnet: {cost["subnet"]}\n'
          f'resolution: {cost["resolution"]}\n'
          f'MFLOPs: {cost["macs"] / 1e6:.2f} (multiply-accumulates)\n'
          f'params: {cost["params"] / 1e6:.2f} M ({cost["params"]})')


if __name__ == '__main__':
    main()
