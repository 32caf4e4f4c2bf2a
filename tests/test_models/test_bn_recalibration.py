import torch
from helpers import direct_statistics, perturb_, tiny_supernet_cfg

from mmofa.apis import init_model
from mmofa.models.utils import recalibrate_bn


def test_recalibration_equals_direct_computation():
    model = perturb_(init_model(dict(model=tiny_supernet_cfg())))
    model.set_subnet(dict(ks=5, e=4, d=3))
    gen = torch.Generator().manual_seed(0)
    batches = [
        torch.randn(n, 3, 40, 40, generator=gen) * 2 + 0.5 for n in (4, 4, 2)
    ]  # unequal sizes: weighted by images
    static = model.export_subnet()
    expected = direct_statistics(static, batches)

    buffers_before = {
        k: v.clone()
        for k, v in model.state_dict().items() if 'running' not in k
    }
    model.eval()
    assert recalibrate_bn(model, batches) == 10
    assert not model.training  # modes restored

    state = model.state_dict()
    assert len(expected) == 1 + 2 + 15 * 3 + 1  # every BN of the subnet
    for name, (mean, var) in expected.items():
        prefix = f'architecture.{name}'
        channels = mean.numel()
        torch.testing.assert_close(
            state[f'{prefix}.running_mean'][:channels],
            mean,
            rtol=1e-4,
            atol=1e-5)
        torch.testing.assert_close(
            state[f'{prefix}.running_var'][:channels],
            var,
            rtol=1e-4,
            atol=1e-5)
    # Weights, biases, momentum and batch counters are untouched.
    for key, value in buffers_before.items():
        assert torch.equal(state[key], value), key
    assert model.backbone.first_conv.bn.momentum == 0.1
    # The batch norms run their own forward again, in the mode they had.
    model.train()
    recalibrate_bn(model, batches[:1])
    assert all(m.training for m in model.modules())
    assert not any('forward' in vars(m) for m in model.modules())
