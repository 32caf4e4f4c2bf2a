"""Search of subnets of a trained supernet: evolution under constraints, or
the whole front by NSGA-II.

    python tools/search.py configs/ofa/search_flops.py SUPERNET.pth \
        --work-dir work_dirs/search
    TOOL=search.py bash tools/dist_test.sh configs/ofa/search_flops.py \
        SUPERNET.pth 8

The config's ``test_cfg`` is an ``mmofa.EvolutionSearchLoop``: its
constraints (one, or a list for a sweep), the search hyperparameters and
the scoring (an accuracy predictor, or real evaluation on the test
dataloader after BN recalibration). Results go to ``WORK_DIR/search/``:
per constraint the best subnet's YAML and static checkpoint, and a CSV and
a Pareto plot for the sweep. An ``mmofa.NSGA2SearchLoop`` (e.g.
configs/ofa/search_nsga2.py) writes the whole score-cost front instead:
each member's YAML, checkpoint and CSV row, and the front's plot. Running
the same command again resumes an interrupted search from its saved state.
"""
import argparse

from mmofa.engine.cli import add_common_args, build_runner, setup
from mmofa.engine.dist import finish_distributed
from mmofa.engine.work_dir_lock import hold_work_dir


def parse_args():
    parser = argparse.ArgumentParser(description='Search subnets with mmofa')
    parser.add_argument('config', help='search config file')
    parser.add_argument('checkpoint', help='supernet checkpoint')
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = setup(args)
    loop = str(cfg.get('test_cfg', {}).get('type', ''))
    if loop.split('.')[-1] not in ('EvolutionSearchLoop', 'NSGA2SearchLoop',
                                   'AccuracyPredictorLoop'):
        raise ValueError(
            f'{args.config}: test_cfg.type is {loop!r}; a search config '
            'sets test_cfg = dict(type="mmofa.EvolutionSearchLoop", ...) or '
            'dict(type="mmofa.NSGA2SearchLoop", ...)')
    cfg.load_from = args.checkpoint
    runner = build_runner(cfg)
    with hold_work_dir(runner.work_dir, 'search'):
        runner.test()
    finish_distributed()


if __name__ == '__main__':
    main()
