"""Train an OFA supernet (or a static subnet) from a config.

    python tools/train.py configs/demo/ofa_mbv3_demo_ps.py
    bash tools/dist_train.sh configs/ofa/ps_kernel_8xb64.py 8
"""
import argparse

from mmengine.runner import Runner

from mmofa.engine.cli import add_common_args, setup
from mmofa.engine.dist import finish_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Train with mmofa')
    parser.add_argument('config', help='train config file')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        help='resume from this checkpoint, or with no value from the latest '
        'checkpoint in the work dir')
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = setup(args)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    runner = Runner.from_cfg(cfg)
    runner.train()
    finish_distributed()


if __name__ == '__main__':
    main()
