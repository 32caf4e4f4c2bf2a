"""Merge the shards of a population evaluation into one result.

    python tools/analysis/merge_population.py WORK_DIR

Reads WORK_DIR/population/shards/shard_<i>_of_<n>.json (written by
tools/analysis/eval_population.py --shard i/n), checks that every shard is
there, finished and run with the same settings, and writes
WORK_DIR/population/{population.json, results.json, population.csv,
population.png} in population order.
"""
import argparse
import json
from pathlib import Path

from mmofa.engine.runner.population_results import (merge_shards,
                                                    write_population)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Merge the shards of a population evaluation')
    parser.add_argument(
        'work_dir', help='the --work-dir of eval_population.py')
    return parser.parse_args()


def main():
    args = parse_args()
    directory = Path(args.work_dir) / 'population'
    settings, records = merge_shards(directory)
    summary = write_population(directory, settings, records)
    print(json.dumps(summary, indent=1))
    print(f'merged {len(records)} subnets into {directory}')


if __name__ == '__main__':
    main()
