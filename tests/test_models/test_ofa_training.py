import copy

import pytest
import torch
from helpers import make_batch, perturb_, tiny_supernet_cfg
from mmengine.optim import OptimWrapper

from mmofa.apis import init_model
from mmofa.models.losses import KDLoss
from mmofa.models.utils import resize_batch


def build(**kwargs):
    model = init_model(dict(model=tiny_supernet_cfg(**kwargs)))
    return perturb_(model).train()


def sgd(model, lr=0.1):
    return OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9))


def gradients(model):
    return {
        name: p.grad.clone()
        for name, p in model.named_parameters() if p.grad is not None
    }


@pytest.mark.parametrize('num_subnets', [1, 3])
def test_one_step_sums_subnet_gradients(num_subnets):
    model = build(num_subnets=num_subnets, resolutions=[48, 56])
    reference = copy.deepcopy(model)
    batch = make_batch(6, 64)
    wrapper = sgd(model)
    steps = []
    optimizer_step = wrapper.optimizer.step
    wrapper.optimizer.step = lambda *a, **k: (steps.append(1),
                                              optimizer_step(*a, **k))
    captured = {}
    log_vars = model.train_step(
        batch, wrapper, grad_sync=lambda: captured.update(gradients(model)))
    assert len(steps) == 1
    assert [k for k in log_vars if k.endswith('/loss')
            ] == [f'subnet{j}/loss' for j in range(num_subnets)]

    # The same subnets, one at a time, on the same (resized) batch.
    iteration = 0
    size = reference.sample_resolution(iteration)
    data = reference.data_preprocessor(batch, True)
    inputs = resize_batch(data['inputs'], size)
    expected = {}
    for index in range(num_subnets):
        reference.zero_grad(set_to_none=True)
        reference.sample_subnet('random',
                                reference.subnet_generator(iteration, index))
        losses = reference.subnet_losses(inputs, data['data_samples'], None)
        reference.parse_losses(losses)[0].backward()
        for name, grad in gradients(reference).items():
            expected[name] = expected.get(name, 0) + grad
    assert captured.keys() == expected.keys()
    for name, grad in expected.items():
        torch.testing.assert_close(
            captured[name], grad, rtol=1e-5, atol=1e-6, msg=name)
    # Gradients are freed after the step.
    assert all(p.grad is None for p in model.parameters())


def test_subnets_and_sizes_are_seeded_by_iteration():
    first, second = build(
        num_subnets=2, resolutions=dict(start=32, stop=64,
                                        step=8)), build(num_subnets=2)
    second.resolutions = first.resolutions
    assert first.resolutions == (32, 40, 48, 56, 64)
    draws = [first.sample_resolution(i) for i in range(20)]
    assert draws == [second.sample_resolution(i) for i in range(20)]
    assert len(set(draws)) > 2
    a = first.sample_subnet('random', first.subnet_generator(5, 1))
    b = second.sample_subnet('random', second.subnet_generator(5, 1))
    assert a == b


def test_distillation_from_a_teacher_checkpoint(tmp_path):
    teacher = build()
    teacher.sample_subnet('max')
    path = tmp_path / 'teacher.pth'
    torch.save({'state_dict': teacher.state_dict()}, path)
    model = build(
        distillation=dict(
            teacher=dict(checkpoint=str(path)),
            loss=dict(
                type='mmofa.KDLoss',
                kd_type='kl',
                temperature=2.0,
                loss_weight=0.5)))
    assert model.teacher is not None
    assert not [n for n, _ in model.named_parameters() if 'teacher' in n]
    assert all(not p.requires_grad for p in model.teacher.parameters())
    log_vars = model.train_step(make_batch(4, 48), sgd(model))
    assert log_vars['subnet0/loss_kd'] > 0
    assert 'teacher' not in ''.join(model.state_dict())


def test_inplace_distillation_uses_the_largest_subnet():
    model = build(distillation=dict(teacher='inplace'))
    model.mutator.set_constraints({'depth': [2]})
    inputs = model.data_preprocessor(make_batch(2, 48), True)['inputs']
    logits = model.teacher_logits(inputs)
    assert model.current_subnet().depth == (4, ) * 5
    assert logits.shape == (2, 4)


def test_kd_losses():
    logits, teacher = torch.randn(4, 5), torch.randn(4, 5)
    soft = torch.softmax(teacher, 1)
    ce = KDLoss('ce')(logits, teacher)
    torch.testing.assert_close(ce,
                               (-soft *
                                torch.log_softmax(logits, 1)).sum(1).mean())
    torch.testing.assert_close(
        KDLoss('mse', loss_weight=2.0)(logits, teacher),
        2 * ((logits - teacher)**2).mean())
    assert KDLoss('kl')(teacher, teacher).abs() < 1e-6
    with pytest.raises(ValueError, match=r"kd_type='l1' is not supported"):
        KDLoss('l1')


def test_bad_training_settings():
    with pytest.raises(ValueError, match='num_subnets = 0 must be'):
        build(num_subnets=0)
    with pytest.raises(
            ValueError,
            match=r'model.resolutions: resolution = 0 '
            'must be a positive integer'):
        build(resolutions=[224, 0])
    with pytest.raises(
            ValueError,
            match=r'resolution = 16 is below 32, the '
            "network's total stride"):
        build(resolutions=[16, 32])
    with pytest.raises(KeyError, match='distillation: unknown keys'):
        build(distillation=dict(teacher='inplace', ratio=1))


def is_channels_last(tensor):
    return tensor.is_contiguous(memory_format=torch.channels_last)


def test_channels_last_layout_gives_the_same_results():
    # In float64, so that the layouts' different summation orders stay far
    # below the tolerance (in float32 BN in train mode amplifies them).
    default = build(num_subnets=2, resolutions=[48, 56]).double()
    nhwc = build(
        num_subnets=2, resolutions=[48, 56], channels_last=True).double()
    nhwc.load_state_dict(default.state_dict())
    kernels = [p for p in nhwc.parameters() if p.dim() == 4]
    assert kernels and all(is_channels_last(p) for p in kernels)
    assert not all(
        is_channels_last(p)
        for p in default.parameters() if p.dim() == 4 and p.shape[-1] > 1)

    x = torch.randn(3, 3, 48, 48, dtype=torch.float64)
    for model in (default, nhwc):
        model.eval()
        model.sample_subnet('random', 4)
    activations = []
    nhwc.backbone.layer2[0].depthwise_conv.conv.register_forward_hook(
        lambda module, args, output: activations.append(output))
    with torch.no_grad():  # twice: the second from the weight cache
        for _ in range(2):
            logits = nhwc(x)
            assert logits.shape == (3, 4)
            torch.testing.assert_close(logits, default(x), rtol=1e-9, atol=0)
    assert len(activations) == 2 and all(
        is_channels_last(a) and a.shape[1] > 1 and a.shape[-1] > 1
        for a in activations)

    batch = make_batch(4, 64)
    for model in (default, nhwc):
        model.train()
        for _ in range(2):
            model.train_step(batch, sgd(model))
        model.reorganize_channels(1)
    for (name, p), q in zip(default.named_parameters(), nhwc.parameters()):
        torch.testing.assert_close(q, p, rtol=1e-9, atol=1e-12, msg=name)
    # Optimizer steps and channel sorting keep the layout.
    assert all(is_channels_last(p) for p in kernels)
