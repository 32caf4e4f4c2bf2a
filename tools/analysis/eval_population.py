"""Evaluate a population of subnets of a trained supernet: accuracy (after
BN recalibration), MFLOPs and params of each; JSON, CSV and a plot.

    # 100 random subnets at 224 px
    python tools/analysis/eval_population.py CONFIG SUPERNET.pth \
        --num 100 --seed 0 --resolution 224 --work-dir W
    # 10 subnets within +-0.5 MFLOPs of each target (rejection sampling)
    python tools/analysis/eval_population.py CONFIG SUPERNET.pth \
        --flops-buckets 200 300 --tolerance 0.5 --per-bucket 10 --work-dir W
    # a list of subnets, e.g. the CVPR 2022 NAS track's JSON of arch codes,
    # split across 8 processes (or GPUs) and merged into one JSON
    TOOL=analysis/eval_population.py bash tools/dist_test.sh CONFIG \
        SUPERNET.pth 8 --subnets CVPR_2022_NAS_Track1_test.json --work-dir W
    # or as independent workers, then merge
    python tools/analysis/eval_population.py CONFIG SUPERNET.pth \
        --subnets archs.json --shard 0/4 --work-dir W    # ... 3/4
    python tools/analysis/merge_population.py W

Without a population option, the config's ``test_cfg`` (an
``mmofa.SubnetPopulationLoop``) decides; other test loops lend their
resolutions and BN calibration settings. Results go to W/population/:
population.json (``{name: {"arch": ..., "acc": ...}}``), results.json,
population.csv, population.png. Running the same command again resumes.
"""
import argparse

from mmofa.engine.cli import add_common_args, build_runner, setup
from mmofa.engine.dist import finish_distributed

LOOP = 'mmofa.SubnetPopulationLoop'
# Settings a population run takes over from another test loop.
SHARED_KEYS = ('resolutions', 'calibrate_bn', 'calibration_dataloader',
               'score_key', 'fp16')


def parse_args():
    parser = argparse.ArgumentParser(
        description='Evaluate a population of subnets of a supernet')
    parser.add_argument('config', help='supernet config file')
    parser.add_argument('checkpoint', help='supernet checkpoint')
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--num', type=int, help='N random subnets')
    source.add_argument(
        '--flops-buckets',
        type=float,
        nargs='+',
        metavar='MFLOPS',
        help='FLOPs targets: --per-bucket subnets within --tolerance of each')
    source.add_argument(
        '--subnets',
        metavar='FILE',
        help='JSON/YAML list or mapping of subnets, or the track format '
        '{name: {"arch": ..., "acc": reference}}')
    parser.add_argument('--seed', type=int, help='sampling seed (default 0)')
    parser.add_argument(
        '--tolerance',
        type=float,
        help='MFLOPs either side of a target (default 0.5)')
    parser.add_argument(
        '--per-bucket', type=int, help='subnets per target (default 10)')
    parser.add_argument(
        '--max-draws',
        type=int,
        help='random draws per target before giving up (default 100000)')
    parser.add_argument(
        '--reference-key',
        help='key of the reference accuracy in a track-format file, for '
        "Kendall's tau (default acc)")
    parser.add_argument(
        '--resolution',
        type=int,
        nargs='+',
        help='input sizes for subnets without their own')
    parser.add_argument(
        '--shard',
        metavar='I/N',
        help='evaluate shard I of N (0-based) in this process; merge with '
        'tools/analysis/merge_population.py')
    parser.add_argument(
        '--save-interval', type=int, help='subnets between saved results')
    add_common_args(parser)
    args = parser.parse_args()
    options = dict(
        seed=('--seed', ('num', 'flops_buckets')),
        tolerance=('--tolerance', ('flops_buckets', )),
        per_bucket=('--per-bucket', ('flops_buckets', )),
        max_draws=('--max-draws', ('flops_buckets', )),
        reference_key=('--reference-key', ('subnets', )))
    for name, (flag, sources) in options.items():
        if getattr(args, name) is not None and all(
                getattr(args, s) is None for s in sources):
            parser.error(f'{flag} needs ' +
                         ' or '.join(f'--{s.replace("_", "-")}'
                                     for s in sources))
    return args


def population_from_args(args):
    """The population spec the command line asks for, or None."""

    def given(**kwargs):
        return {k: v for k, v in kwargs.items() if v is not None}

    if args.num is not None:
        return dict(type='random', num=args.num, **given(seed=args.seed))
    if args.flops_buckets is not None:
        return dict(
            type='flops_buckets',
            targets=args.flops_buckets,
            **given(
                tolerance=args.tolerance,
                num_per_target=args.per_bucket,
                seed=args.seed,
                max_draws=args.max_draws))
    if args.subnets is not None:
        return dict(
            type='file',
            path=args.subnets,
            **given(reference_key=args.reference_key))
    return None


def main():
    args = parse_args()
    cfg = setup(args)
    test_cfg = dict(cfg.get('test_cfg') or {})
    if str(test_cfg.get('type', '')).split('.')[-1] != LOOP.split('.')[-1]:
        test_cfg = dict({k: test_cfg[k]
                         for k in SHARED_KEYS if k in test_cfg},
                        type=LOOP)
    population = population_from_args(args)
    if population is not None:
        test_cfg['population'] = population
    for key, value in (('resolutions', args.resolution), ('shard', args.shard),
                       ('save_interval', args.save_interval)):
        if value is not None:
            test_cfg[key] = value
    cfg.test_cfg = test_cfg
    cfg.load_from = args.checkpoint
    runner = build_runner(cfg)
    runner.test()
    finish_distributed()


if __name__ == '__main__':
    main()
