"""Plot the learning rate of a config's schedule, stages marked.

Steps the config's ``param_scheduler`` (``mmofa.StagedCosineLR`` or any
MMEngine scheduler) over its whole training, per iteration, on the
config's optimizer (no model, no data: the iterations per epoch come from
``--dataset-size`` and the batch size, or ``--iters-per-epoch``), and
marks the progressive-shrinking stages of its ``ProgressiveShrinkingHook``
(or RSS hook) with their names.

    python tools/visualization/vis_scheduler.py \
        configs/ofa/ofa_mbv3_w10_ps_8xb64_in1k.py --dataset-size 1281167 \
        --ngpus 32 --out work_dirs/ps_lr.png
"""
import argparse
import copy
import math
import sys
from pathlib import Path

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope

from mmofa.registry import OPTIMIZERS, PARAM_SCHEDULERS
from mmofa.utils import register_all_modules
from mmofa.utils.paths import check_writable_file


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='training config')
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument(
        '--dataset-size', type=int, help='training images per epoch')
    size.add_argument('--iters-per-epoch', type=int)
    parser.add_argument(
        '--ngpus',
        type=int,
        default=1,
        help='processes the batch is split over (default 1)')
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help='overrides')
    return parser.parse_args()


def stages_of(cfg: Config) -> list:
    """``(name, begin)`` of the config's stage hook, in its unit."""
    for hook in cfg.get('custom_hooks') or []:
        if str(hook.get('type',
                        '')).split('.')[-1] in ('ProgressiveShrinkingHook',
                                                'RandomSubnetSamplingHook'):
            return [(s['name'], s.get('begin', 0)) for s in hook['stages']], \
                hook.get('by_epoch', True)
    return [], True


def learning_rates(cfg: Config, iters_per_epoch: int, ngpus: int = 1) -> list:
    """The learning rate at every training iteration (with
    ``auto_scale_lr`` applied as the runner applies it)."""
    train_cfg = cfg.get('train_cfg') or {}
    by_epoch = train_cfg.get('by_epoch', 'max_epochs' in train_cfg)
    total = (
        train_cfg['max_epochs'] *
        iters_per_epoch if by_epoch else train_cfg['max_iters'])
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer_cfg = copy.deepcopy(cfg.optim_wrapper.optimizer)
    optimizer_cfg['params'] = [param]
    scale = cfg.get('auto_scale_lr') or {}
    if scale.get('enable', False):
        batch = cfg.train_dataloader.batch_size * ngpus
        optimizer_cfg['lr'] *= batch / scale['base_batch_size']
    with DefaultScope.overwrite_default_scope('mmofa'):
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        schedulers = []
        scheduler_cfgs = cfg.param_scheduler
        if isinstance(scheduler_cfgs, dict):
            scheduler_cfgs = [scheduler_cfgs]
        for scheduler_cfg in scheduler_cfgs:
            scheduler_cfg = copy.deepcopy(scheduler_cfg)
            convert = scheduler_cfg.pop('convert_to_iter_based', False)
            if convert:
                kind = PARAM_SCHEDULERS.get(scheduler_cfg.pop('type'))
                schedulers.append(
                    kind.build_iter_from_epoch(
                        optimizer,
                        **scheduler_cfg,
                        epoch_length=iters_per_epoch))
            else:
                scheduler_cfg['optimizer'] = optimizer
                schedulers.append(PARAM_SCHEDULERS.build(scheduler_cfg))
    rates = []
    for step in range(total):
        rates.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        epoch_end = (step + 1) % iters_per_epoch == 0
        for scheduler in schedulers:
            if not scheduler.by_epoch or epoch_end:
                scheduler.step()
    return rates


def plot(rates, stages, by_epoch, iters_per_epoch, title, out) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(10, 4))
    epochs = [i / iters_per_epoch for i in range(len(rates))]
    axes.plot(epochs, rates, lw=1.5)
    top = max(rates) or 1.0
    for name, begin in stages:
        epoch = begin if by_epoch else begin / iters_per_epoch
        axes.axvline(epoch, color='grey', ls='--', lw=0.8)
        axes.text(
            epoch,
            top * 1.02,
            f' {name}',
            rotation=90,
            va='bottom',
            fontsize=8)
    axes.set_xlabel('epoch')
    axes.set_ylabel('learning rate')
    axes.set_ylim(0, top * 1.6)
    axes.set_xlim(0, max(epochs[-1], 1e-9) if epochs else 1)
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    plt.close(figure)


def main():
    args = parse_args()
    check_writable_file(args.out, '--out')
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.iters_per_epoch is not None:
        iters = args.iters_per_epoch
    else:
        batch = cfg.train_dataloader.batch_size * args.ngpus
        iters = math.ceil(args.dataset_size / batch)
    if iters < 1:
        sys.exit(f'{iters} iterations per epoch: give a positive size')
    rates = learning_rates(cfg, iters, args.ngpus)
    stages, by_epoch = stages_of(cfg)
    plot(
        rates, stages, by_epoch, iters,
        f'{Path(args.config).name}: {len(rates)} iterations '
        f'({iters} per epoch), peak lr {max(rates):.4g}', args.out)
    print(f'wrote {args.out}: {len(rates)} iterations, {len(stages)} stages,'
          f' peak lr {max(rates):.4g}, final lr {rates[-1]:.4g}')


if __name__ == '__main__':
    main()
