"""Train an OFA supernet (or a static subnet) from a config.

    python tools/train.py configs/demo/ofa_mbv3_demo_ps.py
    bash tools/dist_train.sh configs/ofa/ps_kernel_8xb64.py 8
"""
import argparse

from mmofa.engine.cli import add_common_args, build_runner, setup
from mmofa.engine.dist import finish_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Train with mmofa')
    parser.add_argument('config', help='train config file')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        help='resume from this checkpoint, or with no value from the latest '
        "checkpoint in the work dir (if there is none: start from the "
        "config's load_from)")
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = setup(args)
    # The config's load_from stays: it is what the run started from, and
    # the runner checks it against the resumed checkpoint's record.
    if args.resume is not None:
        cfg.resume = True if args.resume == 'auto' else args.resume
    runner = build_runner(cfg)
    runner.train()
    finish_distributed()


if __name__ == '__main__':
    main()
