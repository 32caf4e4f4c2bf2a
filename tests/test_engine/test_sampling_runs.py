"""RSS, CompOFA and sandwich training through the runner on tiny data: each
trains a few iterations and its subnets obey its rules."""
import pytest
from helpers import (COMPOFA_KERNELS, COUPLING, assert_coupled,
                     make_imagenet_like)
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner import Runner

from mmofa.engine.hooks import RandomSubnetSamplingHook


@pytest.fixture(autouse=True)
def fresh_message_hub(request):
    """These runners run in the test process: leave no iteration count in
    the current message hub (``OFA`` seeds its sampling from it)."""
    yield
    MessageHub.get_instance(f'after-{request.node.name}')


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    return make_imagenet_like(
        tmp_path_factory.mktemp('tiny'), num_train=8, num_val=4)


def run(tiny_data, tmp_path, max_epochs, hooks, **model):
    """Train the tiny supernet (2 iterations per epoch); return the subnets
    each step trained as ``(epoch, iteration, index, subnet)``."""
    cfg = Config.fromfile('tests/configs/tiny_ps.py')
    cfg.merge_from_dict(
        dict(
            work_dir=str(tmp_path),
            train_dataloader=dict(dataset=dict(data_root=str(tiny_data))),
            val_dataloader=dict(dataset=dict(data_root=str(tiny_data))),
            model=model,
            train_cfg=dict(max_epochs=max_epochs, val_interval=100),
            param_scheduler=dict(stages=[dict(length=max_epochs)])))
    cfg.custom_hooks = hooks
    runner = Runner.from_cfg(cfg)
    seen = []
    sample = runner.model.sample_training_subnet

    def recording(iteration, index):
        subnet = sample(iteration, index)
        seen.append((runner.epoch, iteration, index, subnet))
        return subnet

    runner.model.sample_training_subnet = recording
    runner.train()
    return runner, seen


def test_rss_trains_the_full_net_then_the_whole_space(tiny_data, tmp_path):
    # Per stage (the granularities themselves: test_subnet_sampling.py).
    granularity = 'stage'
    hook = dict(
        type='mmofa.RandomSubnetSamplingHook',
        full_net_epochs=1,
        num_subnets=2,
        granularity=granularity)
    runner, seen = run(tiny_data, tmp_path, 3, [hook])
    model = runner.model
    maximum = model.sample_subnet('max')
    assert [s for e, _, _, s in seen if e == 0] == [maximum] * 2
    sampled = [s for e, _, _, s in seen if e > 0]
    assert len(sampled) == 8 and len(set(sampled)) >= 4
    # No constraints: the whole space, from the first sampling step; the
    # full net of epoch 0 teaches the rest.
    assert model.mutator.constraints == {}
    assert model.sampling == dict(strategy='uniform', granularity=granularity)
    assert (tmp_path / 'teacher_full_net.pth').is_file()
    assert model.teacher is not None
    for subnet in sampled:
        assert all(len(set(k)) == 1 for k in subnet.kernel_size)
        assert all(len(set(e)) == 1 for e in subnet.expand_ratio)
    assert {d for s in sampled for d in s.depth} > {4}


def test_rss_anchor_alternates_smallest_and_largest(tiny_data, tmp_path):
    hook = dict(
        type='mmofa.RandomSubnetSamplingHook',
        full_net_epochs=1,
        anchor=True,
        distill=False)
    runner, seen = run(tiny_data, tmp_path, 4, [hook])
    model = runner.model
    expected = [None, 'min', 'max', 'min']
    for epoch, _, _, subnet in seen:
        mode = expected[epoch] or 'max'
        assert subnet == model.sample_subnet(mode)
    assert len(seen) == 8 and model.teacher is None


def test_rss_hook_rejects_bad_settings():
    with pytest.raises(ValueError, match="granularity 'block'; allowed"):
        RandomSubnetSamplingHook(1, granularity='block')
    with pytest.raises(ValueError, match='num_subnets must be 1, got 2'):
        RandomSubnetSamplingHook(1, num_subnets=2, anchor=True)
    with pytest.raises(ValueError, match='needs a full-net stage'):
        RandomSubnetSamplingHook(0, distill=True)


def test_compofa_trains_coupled_subnets_only(tiny_data, tmp_path):
    model = dict(
        num_subnets=3,
        architecture=dict(
            backbone=dict(
                kernel_sizes=[[k] for k in COMPOFA_KERNELS],
                transform_kernel=False)),
        mutator=dict(couplings=[COUPLING]))
    runner, seen = run(tiny_data, tmp_path, 2, [], **model)
    assert len(seen) == 12
    for *_, subnet in seen:
        assert_coupled(subnet)
    assert len({s for *_, s in seen}) > 3


def test_sandwich_includes_max_and_min_every_step(tiny_data, tmp_path):
    runner, seen = run(
        tiny_data,
        tmp_path,
        2, [],
        num_subnets=3,
        sampling=dict(strategy='sandwich'))
    model = runner.model
    maximum, minimum = model.sample_subnet('max'), model.sample_subnet('min')
    assert len(seen) == 12
    for step in range(4):
        subnets = [s for _, i, _, s in seen if i == step]
        assert subnets[:2] == [maximum, minimum]
        assert subnets[2] not in (maximum, minimum)
