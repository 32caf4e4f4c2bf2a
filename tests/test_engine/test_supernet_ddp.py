"""SupernetDistributedWrapper on 2 CPU processes (gloo), in this test."""
import os

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from helpers import free_port, make_batch, perturb_, tiny_supernet_cfg
from mmengine.optim import OptimWrapper

from mmofa.apis import init_model


def build():
    torch.manual_seed(0)
    model = init_model(
        dict(
            model=tiny_supernet_cfg(
                num_subnets=3,
                resolutions=[40, 48],
                distillation=dict(teacher='inplace'))))
    return perturb_(model).train()


def paired_batch():
    """8 samples: 4 images, each twice (index 2k and 2k + 1)."""
    batch = make_batch(4, 48, seed=1)
    return dict(
        inputs=[x for x in batch['inputs'] for _ in range(2)],
        data_samples=[s for s in batch['data_samples'] for _ in range(2)])


def gradients(model):
    return {
        n: p.grad.clone()
        for n, p in model.named_parameters() if p.grad is not None
    }


def _worker(rank, port, out_dir):
    os.environ.update(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=port,
        RANK=str(rank),
        WORLD_SIZE='2')
    dist.init_process_group('gloo', rank=rank, world_size=2)
    from mmofa.engine.model_wrappers import SupernetDistributedWrapper
    model = build()
    wrapper = SupernetDistributedWrapper(model)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    captured = {}
    reduce = wrapper.all_reduce_gradients

    def reduce_and_capture():
        reduce()
        captured.update(gradients(model))

    wrapper.all_reduce_gradients = reduce_and_capture
    batch = paired_batch()
    wrapper.train_step(
        dict(
            inputs=batch['inputs'][rank::2],
            data_samples=batch['data_samples'][rank::2]), optim)
    torch.save(
        dict(grads=captured, state=model.state_dict()),
        os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def test_averaged_gradient_equals_the_single_process_gradient(tmp_path):
    """One step with 3 subnets, in-place distillation and a resized batch:
    the all-reduced gradient of 2 processes (4 images each) equals the
    gradient of 1 process on all 8 (each image twice, so BN statistics are
    equal), and both ranks end with the same weights and buffers."""
    model = build()
    expected = {}
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    model.train_step(
        paired_batch(),
        optim,
        grad_sync=lambda: expected.update(gradients(model)))

    port = free_port()
    mp.spawn(_worker, args=(port, str(tmp_path)), nprocs=2)
    results = [torch.load(tmp_path / f'rank{r}.pth') for r in (0, 1)]
    for rank in (0, 1):
        grads = results[rank]['grads']
        assert grads.keys() == expected.keys()
        for name, grad in expected.items():
            torch.testing.assert_close(
                grads[name], grad, rtol=1e-3, atol=1e-4, msg=name)
    for key, value in results[0]['state'].items():
        assert torch.equal(value, results[1]['state'][key]), key
