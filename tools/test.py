"""Evaluate a checkpoint: a supernet (with its subnets) or a static subnet.

    python tools/test.py configs/ofa/ofa_mbv3_subnet_8xb256_in1k.py CKPT \
        --cfg-options model.subnet=configs/subnets/mmrazor_note8_lat22.yaml
    bash tools/dist_test.sh configs/ofa/ofa_mbv3_subnet_8xb256_in1k.py CKPT 8

A static subnet checkpoint written by tools/export_subnet.py works with the
same supernet config: its subnet (in the checkpoint) selects the static
model to build.
"""
import argparse

from mmengine.runner import Runner

from mmofa.engine.cli import add_common_args, setup
from mmofa.engine.dist import finish_distributed
from mmofa.engine.static_checkpoint import use_static_model_if_exported


def parse_args():
    parser = argparse.ArgumentParser(description='Test with mmofa')
    parser.add_argument('config', help='test config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = setup(args)
    use_static_model_if_exported(cfg, args.checkpoint)
    cfg.load_from = args.checkpoint
    runner = Runner.from_cfg(cfg)
    runner.test()
    finish_distributed()


if __name__ == '__main__':
    main()
