"""An exported subnet trains, tests and fine-tunes from the config written
next to it, as fast and with the same options as inside the supernet."""
import pytest
import torch
from helpers import (REPO, direct_statistics, make_batch, make_imagenet_like,
                     perturb_, run_tool)
from mmengine.config import Config

from mmofa.apis import init_model, save_subnet
from mmofa.models.task_modules import count_macs_params
from mmofa.models.utils import recalibrate_bn
from mmofa.utils.checkpoint import load_checkpoint_file

TINY = REPO / 'tests/configs/tiny_ps.py'
SUBNET = dict(ks=5, e=4, d=3)


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_imagenet_like(
        tmp_path_factory.mktemp('tiny'), num_train=8, num_val=4)


@pytest.fixture(scope='module')
def exported(data, tmp_path_factory):
    """A subnet of the tiny supernet exported with the tiny PS config (its
    data root read from the environment, as the tools read it)."""
    folder = tmp_path_factory.mktemp('export')
    torch.manual_seed(0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('MMOFA_TEST_DATA', str(data))
        model = perturb_(init_model(TINY))
    return save_subnet(model, folder / 'sub.pth', subnet=SUBNET)


def test_the_written_config_has_no_supernet_parts(exported):
    cfg = Config.fromfile(str(exported['config']))
    assert cfg.model.type == 'mmofa.SubnetClassifier'
    assert cfg.model.resolutions == [32, 40]  # the supernet's, no own size
    assert [h['type']
            for h in cfg.custom_hooks] == ['DumpWeightsHook', 'KillHook']
    assert 'subnets' not in cfg.val_cfg and 'subnets' not in cfg.test_cfg
    assert cfg.load_from == str(exported['checkpoint'])


def test_the_exported_config_trains_tests_and_fine_tunes(
        data, exported, tmp_path):
    env = {'MMOFA_TEST_DATA': str(data)}
    config = exported['config']
    # Trains 2 steps from the exported weights, as written.
    result = run_tool(
        'tools/train.py',
        config,
        '--work-dir',
        tmp_path / 't',
        '--cfg-options',
        'train_cfg.max_epochs=1',
        env=env)
    log = result.stdout + result.stderr
    assert f'Load checkpoint from {exported["checkpoint"]}' in log
    assert 'Iter(train) [2/2]' in log or 'Epoch(train) [1][2/2]' in log
    trained = load_checkpoint_file(tmp_path / 't' / 'epoch_1.pth')
    static = load_checkpoint_file(exported['checkpoint'])['state_dict']
    assert trained['state_dict'].keys() == static.keys()
    # Tests, with BN recalibrated (the test log says so) and its MFLOPs.
    tested = run_tool(
        'tools/test.py',
        config,
        tmp_path / 't' / 'epoch_1.pth',
        '--work-dir',
        tmp_path / 'test',
        env=env)
    log = tested.stdout + tested.stderr
    assert 'static_R32: accuracy/top1' in log
    assert 'BN recalibrated on 8 images at 32 px' in log
    row = next(line for line in log.splitlines()
               if line.startswith('static_R32 '))
    macs, params = count_macs_params(
        init_model(config), (1, 3, 32, 32), lambda m, x: m(x, mode='tensor'))
    assert row.split()[1:3] == [f'{macs / 1e6:.1f}', f'{params / 1e6:.2f}']
    # Fine-tunes from the trained weights with distillation from the
    # supernet's largest subnet.
    supernet = tmp_path / 'supernet.pth'
    torch.save(dict(state_dict=init_model(TINY).state_dict()), supernet)
    tuned = run_tool(
        'tools/train.py',
        config,
        '--work-dir',
        tmp_path / 'f',
        '--cfg-options',
        f'load_from={tmp_path / "t" / "epoch_1.pth"}',
        'train_cfg.max_epochs=1',
        f'model.distillation.teacher.checkpoint={supernet}',
        f'model.distillation.teacher.model={TINY}',
        env=env)
    assert 'loss_kd' in tuned.stdout + tuned.stderr


def test_a_supernet_hook_on_a_static_model_is_refused(data, exported,
                                                      tmp_path):
    config = tmp_path / 'with_hook.py'
    config.write_text(exported['config'].read_text() + (
        "\ncustom_hooks = [dict(type='mmofa.ProgressiveShrinkingHook', "
        "stages=[dict(name='all')])]\n"))
    result = run_tool(
        'tools/train.py',
        config,
        '--work-dir',
        tmp_path,
        env={'MMOFA_TEST_DATA': str(data)},
        check=False)
    assert result.returncode != 0
    assert ('ProgressiveShrinkingHook samples subnets of a supernet (an OFA '
            'model with a mutator); the model is a SubnetClassifier'
            ) in result.stderr
    assert not list(tmp_path.glob('epoch_*.pth'))


def _static_classifier(exported, channels_last: bool):
    cfg = Config.fromfile(str(exported['config']))
    model = init_model(
        cfg,
        exported['checkpoint'],
        cfg_options={'model.channels_last': channels_last})
    return model.double().train()


def test_channels_last_training_equals_nchw(exported):
    """The loss and gradients of a channels-last training step equal the
    default layout's within float64 rounding, at the drawn sizes too."""
    batch = make_batch(4, 40)
    inputs = torch.stack(batch['inputs']).double() / 255
    results = []
    for channels_last in (False, True):
        model = _static_classifier(exported, channels_last)
        if channels_last:
            assert model.backbone.first_conv.conv.weight.is_contiguous(
                memory_format=torch.channels_last)
        model._step_count = 0
        torch.manual_seed(0)  # the same dropout mask
        loss = model.loss(inputs, batch['data_samples'])['loss']
        loss.backward()
        results.append((loss.detach(), {
            n: p.grad.clone()
            for n, p in model.named_parameters()
        }))
    (loss_a, grads_a), (loss_b, grads_b) = results
    assert abs(loss_a - loss_b).item() <= 1e-12
    for name, grad in grads_a.items():
        assert (grad - grads_b[name]).abs().max().item() <= 1e-10, name


def test_training_sizes_are_drawn_as_the_supernet_draws_them(exported):
    from mmofa.models.algorithms.ofa import draw_resolution
    model = _static_classifier(exported, False)
    sizes = []
    for iteration in range(20):
        model._step_count = iteration
        sizes.append(model.training_size())
    assert sizes == [draw_resolution((32, 40), 0, i) for i in range(20)]
    assert set(sizes) == {32, 40}


def test_static_bn_recalibration_at_a_new_size_equals_direct(exported):
    model = init_model(exported['config'], exported['checkpoint'])
    gen = torch.Generator().manual_seed(1)
    batches = [torch.randn(n, 3, 48, 48, generator=gen) for n in (4, 2)]
    expected = direct_statistics(
        init_model(exported['config'], exported['checkpoint']), batches)
    assert recalibrate_bn(model, batches) == 6
    state = model.state_dict()
    for name, (mean, var) in expected.items():
        torch.testing.assert_close(
            state[f'{name}.running_mean'], mean, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(
            state[f'{name}.running_var'], var, rtol=1e-4, atol=1e-5)
