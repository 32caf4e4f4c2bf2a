"""The CUDA paths: run by the same ``make test`` on a machine with a GPU,
skipped elsewhere (``tools/gpu_check.sh`` runs them first). Every bound is
stated where it is checked."""
import copy
import os
import random

import pytest
import torch
from helpers import (W10_CONFIG, carry_official_weights, free_port, make_batch,
                     make_imagenet_like, official_supernet, perturb_, run_tool,
                     tiny_supernet_cfg)
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from mmofa.apis import init_model
from mmofa.models.utils import recalibrate_bn

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA GPU')

# fp32 on CUDA: the supernet's sliced weights and the static copies run the
# same kernels; cuDNN may pick other algorithms per shape.
FP32_BOUND = 1e-5
# Under autocast both sides round to 16 bits: logits (|x| ~ 10) agree to a
# few units of the last place of fp16 (eps 1e-3) / bf16 (eps 8e-3).
AUTOCAST_BOUND = dict(float16=5e-2, bfloat16=2e-1)
TINY = 'tests/configs/tiny_ps.py'


@pytest.fixture(scope='module')
def supernet():
    torch.manual_seed(0)
    return perturb_(init_model(W10_CONFIG)).cuda().eval()


def subnets(model, count=5, seed=0):
    generator = random.Random(seed)
    for index in range(count):
        mode = ('max', 'min')[index] if index < 2 else 'random'
        yield model.sample_subnet(mode, generator)


def test_supernet_equals_exported_static_subnet_on_cuda(supernet):
    images = torch.randn(4, 3, 160, 160, device='cuda')
    for _ in subnets(supernet):
        with torch.no_grad():
            expected = supernet(images, mode='tensor')
            static = supernet.export_subnet()
            assert next(static.parameters()).is_cuda
            assert (static(images, mode='tensor') -
                    expected).abs().max().item() <= FP32_BOUND


@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
def test_supernet_equals_static_under_autocast(supernet, dtype):
    images = torch.randn(4, 3, 160, 160, device='cuda')
    for _ in subnets(supernet, 3, seed=1):
        static = supernet.export_subnet()
        with torch.no_grad(), torch.autocast(
                'cuda', dtype=getattr(torch, dtype)):
            expected = supernet(images, mode='tensor').float()
            actual = static(images, mode='tensor').float()
        assert torch.isfinite(actual).all()
        assert (actual - expected).abs().max().item() <= AUTOCAST_BOUND[dtype]


def test_mmofa_equals_official_on_cuda():
    official = official_supernet().cuda().eval()
    ours = carry_official_weights(official.cpu()).cuda().eval()
    official.cuda()
    images = torch.randn(2, 3, 224, 224, device='cuda')
    for subnet in subnets(ours, 4, seed=2):
        arch = ours.dump_subnet(subnet, 'arch_dict')
        official.set_active_subnet(ks=arch['ks'], e=arch['e'], d=arch['d'])
        with torch.no_grad():
            assert (ours(images, mode='tensor') -
                    official(images)).abs().max().item() <= FP32_BOUND


def _ps_model():
    torch.manual_seed(0)
    model = init_model(
        dict(
            model=tiny_supernet_cfg(
                num_subnets=2,
                resolutions=[32, 40],
                distillation=dict(teacher='inplace'),
                sampling=dict(strategy='sandwich'))))
    return model.cuda().train()


def _one_step(model, wrapper_cls, **wrapper_kwargs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    wrapper = wrapper_cls(optimizer=optimizer, **wrapper_kwargs)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    log = model.train_step(make_batch(8, 40), wrapper)
    step = {k: (v.detach() - before[k]) for k, v in model.named_parameters()}
    return log, step


def test_amp_progressive_shrinking_step_equals_the_fp32_step():
    """A sandwich step (max subnet distilling the min one in place) under
    AMP (bf16, no loss scaling, so no step is skipped): finite losses, and
    the update equals the fp32 step's within 5 % of its norm."""
    model = _ps_model()
    state = copy.deepcopy(model.state_dict())
    log32, step32 = _one_step(model, OptimWrapper)
    model.load_state_dict(state)
    log16, step16 = _one_step(
        model, AmpOptimWrapper, dtype='bfloat16', loss_scale=1.0)
    assert all(torch.isfinite(v).all() for v in log16.values())
    assert 'subnet1/loss_kd' in log16
    num = sum((step16[k] - step32[k]).pow(2).sum() for k in step32)
    den = sum(step32[k].pow(2).sum() for k in step32)
    assert (num / den).sqrt().item() <= 0.05


def test_channels_last_on_cuda_equals_nchw(supernet):
    images = torch.randn(4, 3, 160, 160, device='cuda')
    last = copy.deepcopy(supernet)
    last.channels_last = True
    last.architecture.to(memory_format=torch.channels_last)
    for subnet in subnets(supernet, 3, seed=3):
        last.set_subnet(subnet)
        with torch.no_grad():
            assert (last(images, mode='tensor') -
                    supernet(images, mode='tensor')).abs().max().item() <= 1e-4


def test_bn_recalibration_on_cuda_equals_cpu():
    """Running statistics recalibrated on CUDA equal the CPU's within
    1e-4 (relative): the same images, float32 reductions in another
    order."""
    torch.manual_seed(0)
    cpu = perturb_(init_model(dict(model=tiny_supernet_cfg())))
    cpu.sample_subnet('max')
    gpu = copy.deepcopy(cpu).cuda()
    batches = [torch.randn(8, 3, 40, 40) for _ in range(3)]
    recalibrate_bn(cpu, batches)
    recalibrate_bn(gpu, [b.cuda() for b in batches])
    for (name, a), b in zip(cpu.named_buffers(), gpu.buffers()):
        if 'running' in name:
            torch.testing.assert_close(b.cpu(), a, rtol=1e-4, atol=1e-5)


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_imagenet_like(
        tmp_path_factory.mktemp('tiny'), num_train=8, num_val=4)


def test_one_process_nccl_run_and_resume_on_cuda(data, tmp_path):
    """tools/dist_train.sh with 1 GPU process (NCCL), then a run killed
    nowhere but stopped after 3 of 5 epochs and resumed on CUDA: its final
    weights equal the uninterrupted run's within 1e-3 (cuDNN and atomics
    are not bitwise deterministic; a lost or repeated step moves weights by
    ~1e-2)."""
    env = {'MMOFA_TEST_DATA': str(data), 'PORT': free_port()}
    options = ['--cfg-options', 'train_cfg.val_interval=10']
    whole = tmp_path / 'whole'
    result = run_tool(
        'bash',
        'tools/dist_train.sh',
        TINY,
        '1',
        '--work-dir',
        whole,
        *options,
        env=env)
    assert 'Distributed training: True' in result.stdout + result.stderr
    part = tmp_path / 'part'
    run_tool(
        'tools/train.py',
        TINY,
        '--work-dir',
        part,
        *options,
        'train_cfg.max_epochs=3',
        env=env)
    run_tool(
        'tools/train.py',
        TINY,
        '--work-dir',
        part,
        '--resume',
        *options,
        env=env)
    a = torch.load(whole / 'rank0.pth', weights_only=True)
    b = torch.load(part / 'rank0.pth', weights_only=True)
    assert max((a[k].double() - b[k].double()).abs().max().item() for k in a
               if a[k].numel()) <= 1e-3


def test_export_and_onnx_with_the_cuda_provider(supernet, tmp_path):
    ort = pytest.importorskip('onnxruntime')
    if 'CUDAExecutionProvider' not in ort.get_available_providers():
        pytest.skip('onnxruntime has no CUDAExecutionProvider '
                    '(pip install onnxruntime-gpu)')
    from mmofa.apis import save_subnet
    supernet.sample_subnet('random', 4)
    paths = save_subnet(supernet.cpu(), tmp_path / 'sub.pth')
    supernet.cuda()
    out = tmp_path / 'sub.onnx'
    run_tool('tools/deployment/export_onnx.py', paths['config'],
             paths['checkpoint'], '--out', out, '--resolution', '160')
    session = ort.InferenceSession(
        str(out), providers=['CUDAExecutionProvider'])
    images = torch.randn(2, 3, 160, 160)
    static = init_model(paths['config'], paths['checkpoint'])
    with torch.no_grad():
        expected = static(images, mode='tensor').numpy()
    actual = session.run(None, {'images': images.numpy()})[0]
    assert abs(actual - expected).max() <= 1e-3  # TF32/cuDNN on the GPU
    assert os.path.getsize(out) > 1000


@pytest.mark.parametrize('name', ['torch', 'onnxruntime', 'tensorrt'])
def test_a_latency_table_in_each_gpu_runtime(name, tmp_path):
    """A calibrated latency table of the tiny supernet in each GPU runtime
    (skipped, with the reason build_runtime names, where the package or
    execution provider is missing), loaded for that runtime only, pricing
    subnets that also run end to end there."""
    import numpy as np

    from mmofa.models.task_modules import (build_latency_table, build_runtime,
                                           load_latency_table,
                                           save_latency_table, time_subnets)
    try:
        runtime = build_runtime(name, device='cuda', warmup=2, repeats=5)
    except (ImportError, RuntimeError) as error:
        pytest.skip(str(error))
    model = init_model(dict(model=tiny_supernet_cfg()))
    table = build_latency_table(
        model, [32, 48], device='cuda', runtime=runtime, calibrate=4)
    assert table['runtime']['name'] == name
    assert table['runtime']['device'] == torch.cuda.get_device_name()
    assert table['correction']['subnets'] == 4
    path = save_latency_table(table, tmp_path / f'{name}.json')
    codec = model.backbone.population_codec([32, 48])
    latency = load_latency_table(path, model, codec, name, 1)
    other = 'torch' if name != 'torch' else 'onnxruntime'
    with pytest.raises(ValueError, match=f'not in {other}'):
        load_latency_table(path, model, codec, other, 1)
    population = codec.random(4, np.random.default_rng(0))
    measured = time_subnets(model, runtime, codec.to_subnets(population))
    assert (np.asarray(latency(population)) > 0).all()
    assert (measured > 0).all()
