import argparse
import math

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T

from mmofa.datasets import FixedSubsetSampler, ResizeCenterCrop
from mmofa.engine.cli import add_common_args
from mmofa.engine.hooks import ProgressiveShrinkingHook
from mmofa.engine.schedulers import StagedCosineLR


@pytest.mark.parametrize('size,shape', [(160, (300, 400)), (224, (333, 250)),
                                        (128, (128, 128))])
def test_resize_center_crop_is_torchvision_eval_transform(size, shape):
    rng = np.random.RandomState(size)
    image = rng.randint(0, 256, shape + (3, ), dtype=np.uint8)
    ours = ResizeCenterCrop(size)(dict(img=image.copy()))['img']
    official = T.Compose(
        [T.Resize(math.ceil(size / 0.875)),
         T.CenterCrop(size)])(
             Image.fromarray(image))
    assert ours.shape == (size, size, 3)
    assert np.array_equal(ours, np.asarray(official))
    with pytest.raises(ValueError, match='size = 0 must be'):
        ResizeCenterCrop(0)


def test_fixed_subset_sampler():
    dataset = list(range(100))
    first = list(FixedSubsetSampler(dataset, num_images=10, seed=3))
    assert first == list(FixedSubsetSampler(dataset, num_images=10, seed=3))
    assert len(set(first)) == 10 and set(first) <= set(dataset)
    assert first != list(FixedSubsetSampler(dataset, num_images=10, seed=4))
    assert len(FixedSubsetSampler(dataset, num_images=500)) == 100
    # Split explicitly: the parts interleave the whole subset.
    parts = [
        list(FixedSubsetSampler(dataset, 10, 3, num_replicas=2, rank=r))
        for r in (0, 1)
    ]
    assert parts == [first[0::2], first[1::2]]
    with pytest.raises(ValueError, match=r'rank = 2 must be in \[0, 2\)'):
        FixedSubsetSampler(dataset, 10, num_replicas=2, rank=2)


def _lrs(scheduler, steps):
    rates = []
    for _ in range(steps):
        rates.append(scheduler.optimizer.param_groups[0]['lr'])
        scheduler.optimizer.step()
        scheduler.step()
    return rates


def test_staged_cosine_lr_follows_the_official_formula():
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=2.0)
    scheduler = StagedCosineLR.build_iter_from_epoch(
        optimizer,
        stages=[
            dict(length=2),
            dict(length=3, warmup=1, lr_mult=0.5, warmup_start=0.25)
        ],
        epoch_length=4)
    rates = _lrs(scheduler, 22)
    # stage 1: 8 iterations of cosine from 2.0
    assert rates[:8] == pytest.approx(
        [0.5 * 2.0 * (1 + math.cos(math.pi * t / 8)) for t in range(8)])
    # stage 2: 4 warmup iterations from 0.25 of the peak 1.0, then cosine
    assert rates[8:12] == pytest.approx(
        [1.0 * (0.25 + 0.75 * (t + 1) / 4) for t in range(4)])
    assert rates[12:20] == pytest.approx(
        [0.5 * 1.0 * (1 + math.cos(math.pi * t / 8)) for t in range(8)])
    assert rates[20:] == [0.0, 0.0]
    # Closed form: a scheduler resumed at step 10 (built with last_step=9;
    # construction applies the next step) gives the same rate.
    optimizer2 = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=2.0)
    for group in optimizer2.param_groups:
        group['initial_lr'] = 2.0
    StagedCosineLR(
        optimizer2, stages=scheduler.stages, by_epoch=False, last_step=9)
    assert optimizer2.param_groups[0]['lr'] == pytest.approx(rates[10])
    with pytest.raises(ValueError, match='warmup 3 must be shorter'):
        StagedCosineLR(optimizer, stages=[dict(length=3, warmup=3)])


@pytest.mark.parametrize('stages,kwargs,error', [
    ([], {}, 'must not be empty'),
    ([dict(name='a', begin=1)], {}, 'must start at 0'),
    ([dict(name='a'), dict(name='b', begin=0)], {}, 'increase'),
    ([dict(name='a'), dict(name='a', begin=2)], {}, 'unique'),
    ([dict(name='a', lr=1)], {}, r"unknown keys 'lr'"),
    ([dict(name='a'), dict(name='b', begin=2)
      ], dict(teacher_stage='b'), 'before the last'),
])
def test_bad_progressive_shrinking_stages(stages, kwargs, error):
    with pytest.raises((ValueError, KeyError), match=error):
        ProgressiveShrinkingHook(stages, **kwargs)


def test_local_rank_in_both_spellings():
    parser = argparse.ArgumentParser()
    add_common_args(parser)
    assert parser.parse_args(['--local-rank', '3']).local_rank == 3
    assert parser.parse_args(['--local_rank', '2']).local_rank == 2
    assert parser.parse_args([]).launcher == 'none'


def test_progress_log_waits_then_logs_at_its_interval(monkeypatch):
    from mmofa.engine import progress
    clock = [0.0]
    lines = []
    monkeypatch.setattr(progress.time, 'perf_counter', lambda: clock[0])
    monkeypatch.setattr(
        progress, 'print_log', lambda line, logger=None: lines.append(line))
    quick = progress.ProgressLog(3, 'quick', interval=10, after=10)
    for _ in range(3):
        clock[0] += 1
        quick.update()
    assert lines == []  # done in 3 s: nothing said
    slow = progress.ProgressLog(4, 'slow', interval=10, after=10)
    for step in (4, 8, 4, 4):
        clock[0] += step
        slow.update()
    assert lines == [
        'slow 2/4 (50 %), 0:00:12 elapsed, ETA 0:00:12',
        'slow 4/4 (100 %), 0:00:20 elapsed'
    ]
