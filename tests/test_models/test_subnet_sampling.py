"""Sampling rules of the mutator and the OFA training step: CompOFA's
coupling, RSS granularities, sandwich sampling."""
import copy
import random

import pytest
import torch
from helpers import (COMPOFA_KERNELS, COUPLING, assert_coupled, make_batch,
                     perturb_, tiny_supernet_cfg)
from mmengine.optim import OptimWrapper

from mmofa.apis import init_model
from mmofa.models.mutables import ChoiceError


def compofa_cfg(**kwargs):
    cfg = tiny_supernet_cfg(
        mutator=dict(type='mmofa.OFAMutator', couplings=[COUPLING]), **kwargs)
    cfg['architecture']['backbone'].update(
        kernel_sizes=[[k] for k in COMPOFA_KERNELS], transform_kernel=False)
    return cfg


def build(cfg):
    torch.manual_seed(0)
    return perturb_(init_model(dict(model=cfg))).train()


def test_compofa_space_has_243_subnets_per_resolution():
    model = build(compofa_cfg())
    subnets = set()
    for choices in model.mutator.iter_choices():
        model.mutator.set_choices(choices)
        subnet = model.current_subnet()
        assert_coupled(subnet)
        subnets.add(subnet)
    assert len(subnets) == 3**5 == 243
    # Random draws stay in it and reach all of it.
    drawn = {model.sample_subnet('random', seed) for seed in range(3000)}
    assert drawn == subnets
    assert model.sample_subnet('max') == model.current_subnet()
    assert model.current_subnet().depth == (4, ) * 5
    assert_coupled(model.sample_subnet('min'))
    assert model.current_subnet().depth == (2, ) * 5


def test_compofa_has_no_transform_matrices_and_loads_7x7_centre_crops():
    compofa = build(compofa_cfg())
    assert not [k for k in compofa.state_dict() if 'trans_matrix' in k]
    ofa = build(tiny_supernet_cfg())  # kernels 3/5/7, transform matrices
    compofa.load_state_dict(ofa.state_dict(), strict=True)
    for stage, size in enumerate(COMPOFA_KERNELS):
        conv = f'backbone.layer{stage + 2}.0.depthwise_conv.conv.weight'
        start = (7 - size) // 2
        assert torch.equal(
            compofa.architecture.state_dict()[conv],
            ofa.architecture.state_dict()[conv][:, :, start:start + size,
                                                start:start + size])
    # The exported subnet is the centre crop, no transform.
    compofa.eval().sample_subnet('random', 1)
    images = torch.randn(2, 3, 40, 40)
    static = compofa.export_subnet()
    torch.testing.assert_close(
        static(images, mode='tensor'),
        compofa(images, mode='tensor'),
        atol=1e-5,
        rtol=0)


def test_coupling_errors_name_the_value():
    cfg = compofa_cfg()
    cfg['mutator']['couplings'] = [
        dict(dims=('depth', 'expand_ratio'), choices=[(2, 3), (5, 6)])
    ]
    with pytest.raises(ChoiceError, match=r'layer2.depth = 5 is not a cand'):
        build(cfg)
    cfg['mutator']['couplings'] = [dict(dims=('depth', ), choices=[(2, )])]
    with pytest.raises(ChoiceError, match='two or more different'):
        build(cfg)
    cfg['mutator']['couplings'] = [
        dict(dims=('depth', 'width'), choices=[(2, 3)])
    ]
    with pytest.raises(ChoiceError, match=r"stage 'layer2' has only"):
        build(cfg)


@pytest.mark.parametrize('granularity', ['layer', 'stage', 'network'])
def test_granularity_ties_random_draws(granularity):
    model = build(tiny_supernet_cfg())
    subnets = [
        model.sample_subnet('random', seed, granularity) for seed in range(200)
    ]
    per_stage = [
        len(set(s.kernel_size[i])) == 1 and len(set(s.expand_ratio[i])) == 1
        for s in subnets for i in range(5)
    ]
    whole = [
        len({k
             for ks in s.kernel_size
             for k in ks}) == 1
        and len({e
                 for es in s.expand_ratio
                 for e in es}) == 1 and len(set(s.depth)) == 1 for s in subnets
    ]
    if granularity == 'layer':
        assert not all(per_stage) and not any(whole)
    elif granularity == 'stage':
        assert all(per_stage) and not all(whole)
    else:
        assert all(whole)
    # The whole space is reachable: every candidate of every dimension.
    for dim, values in (('kernel_size', {3, 5, 7}), ('expand_ratio', {3, 4,
                                                                      6})):
        seen = {v for s in subnets for vs in getattr(s, dim) for v in vs}
        assert seen == values
    assert {d for s in subnets for d in s.depth} == {2, 3, 4}


def test_network_granularity_needs_equal_candidates():
    model = build(compofa_cfg())  # stage kernels differ: [3] vs [5]
    with pytest.raises(ChoiceError, match='allow different values'):
        model.sample_subnet('random', 0, 'network')


def sgd(model):
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))


def record_subnets(model):
    seen = []
    sample = model.sample_training_subnet

    def recording(iteration, index):
        seen.append((iteration, index, sample(iteration, index)))
        return seen[-1][2]

    model.sample_training_subnet = recording
    return seen


def test_sandwich_trains_max_min_and_random_with_inplace_distillation():
    model = build(
        tiny_supernet_cfg(num_subnets=4, sampling=dict(strategy='sandwich')))
    reference = copy.deepcopy(model)
    seen = record_subnets(model)
    batch = make_batch(4, 40)
    log_vars = model.train_step(batch, sgd(model))
    maximum = reference.sample_subnet('max')
    minimum = reference.sample_subnet('min')
    assert [s for _, _, s in seen[:2]] == [maximum, minimum]
    assert seen[2][2] == reference.sample_subnet(
        'random', reference.subnet_generator(0, 2))
    assert 'subnet0/loss_kd' not in log_vars
    assert all(f'subnet{i}/loss_kd' in log_vars for i in (1, 2, 3))

    # The distillation targets are the largest subnet's logits of the step.
    for module in reference.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    inputs = reference.data_preprocessor(batch, True)['inputs']
    samples = reference.data_preprocessor(batch, True)['data_samples']
    reference.sample_subnet('max')
    teacher = reference(inputs, mode='tensor').detach()
    reference.set_subnet(minimum)
    losses = reference.subnet_losses(inputs, samples, teacher)
    second = build(
        tiny_supernet_cfg(num_subnets=2, sampling=dict(strategy='sandwich')))
    for module in second.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    log_vars = second.train_step(batch, sgd(second))
    torch.testing.assert_close(log_vars['subnet1/loss_kd'], losses['loss_kd'])


def test_sandwich_rejects_a_teacher_and_too_few_subnets():
    with pytest.raises(ValueError, match='no separate teacher|remove distil'):
        build(
            tiny_supernet_cfg(
                num_subnets=3,
                sampling=dict(strategy='sandwich'),
                distillation=dict(teacher='inplace')))
    model = build(tiny_supernet_cfg(sampling=dict(strategy='sandwich')))
    with pytest.raises(ValueError, match='at least 2 subnets per step'):
        model.train_step(make_batch(2, 40), sgd(model))
    with pytest.raises(ValueError, match="'best'; allowed"):
        model.sampling = dict(strategy='best')
    with pytest.raises(KeyError, match='unknown keys'):
        model.sampling = dict(stratgy='max')


def test_compofa_training_step_samples_coupled_subnets():
    model = build(compofa_cfg(num_subnets=3))
    seen = record_subnets(model)
    wrapper = sgd(model)
    for _ in range(3):
        model.train_step(make_batch(4, 40, seed=len(seen)), wrapper)
    assert len(seen) == 9
    for _, _, subnet in seen:
        assert_coupled(subnet)
    assert len({s for _, _, s in seen}) > 1


def test_constraints_apply_to_coupled_choices():
    model = build(compofa_cfg())
    model.mutator.set_constraints(dict(depth=[3, 4]))
    for seed in range(50):
        subnet = model.sample_subnet('random', random.Random(seed))
        assert set(subnet.depth) <= {3, 4}
        assert_coupled(subnet)
    assert len(list(model.mutator.iter_choices())) == 2**5


def test_search_populations_stay_in_the_coupled_space():
    import numpy as np

    from mmofa.structures import MobileNetV3PopulationCodec
    model = build(compofa_cfg())
    codec = MobileNetV3PopulationCodec(model.search_space, [32, 40],
                                       model.mutator.couplings)
    rng = np.random.default_rng(0)
    parents = codec.random(300, rng)
    children = codec.crossover(parents, codec.mutate(parents, rng, 0.5, 0.5),
                               rng)
    subnets = codec.to_subnets(parents) + codec.to_subnets(children)
    for subnet in subnets:
        assert_coupled(subnet)
    assert len({s.with_resolution(None) for s in subnets}) > 200
    with pytest.raises(NotImplementedError, match='one expand ratio per'):
        MobileNetV3PopulationCodec(
            model.search_space, [32],
            [dict(dims=('depth', 'expand_ratio'), choices=[(2, 3), (2, 4)])])
