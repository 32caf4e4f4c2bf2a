"""Evaluate a checkpoint: a supernet (with its subnets) or a static subnet.

    python tools/test.py configs/ofa/ofa_mbv3_subnet_8xb256_in1k.py CKPT \
        --cfg-options model.subnet=configs/subnets/mmrazor_note8_lat22.yaml
    bash tools/dist_test.sh configs/ofa/ofa_mbv3_subnet_8xb256_in1k.py CKPT 8

A static subnet checkpoint written by tools/export_subnet.py works with the
same supernet config: its subnet (in the checkpoint) selects the static
model to build.
"""
import argparse

from mmofa.engine.cli import add_common_args, build_runner, setup
from mmofa.engine.dist import finish_distributed
from mmofa.engine.static_checkpoint import use_static_model_if_exported
from mmofa.utils.paths import check_writable_dir, check_writable_file


def parse_args():
    parser = argparse.ArgumentParser(description='Test with mmofa')
    parser.add_argument('config', help='test config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='write per-subnet metrics and per-image predictions to this '
        '.json or .pkl file')
    parser.add_argument(
        '--show-dir',
        help='draw predictions on test images into this folder, one '
        'subfolder per subnet')
    parser.add_argument(
        '--interval',
        type=int,
        default=1,
        help='with --show-dir: draw every N-th image (default 1)')
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = setup(args)
    use_static_model_if_exported(cfg, args.checkpoint)
    cfg.load_from = args.checkpoint
    if args.out is not None:
        check_writable_file(args.out, '--out')
        cfg.test_cfg.out = args.out
    if args.show_dir is not None:
        check_writable_dir(args.show_dir, '--show-dir')
        cfg.visualizer = dict(
            type='mmpretrain.UniversalVisualizer',
            vis_backends=[dict(type='LocalVisBackend')])
        cfg.setdefault('custom_hooks', []).append(
            dict(
                type='mmofa.SubnetVisualizationHook',
                enable=True,
                interval=args.interval,
                out_dir=args.show_dir))
    runner = build_runner(cfg)
    runner.test()
    finish_distributed()


if __name__ == '__main__':
    main()
