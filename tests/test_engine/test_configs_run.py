"""The official configs, run for an epoch each on tiny data."""
import torch
from helpers import free_port, make_imagenet_like, run_tool

from mmofa.apis import init_model, save_subnet
from mmofa.utils.checkpoint import load_checkpoint_file

STAGES = [
    'ps_teacher_8xb64', 'ps_kernel_8xb64', 'ps_depth_phase1_8xb64',
    'ps_depth_phase2_8xb64', 'ps_expand_phase1_8xb64', 'ps_expand_phase2_8xb64'
]


def tiny_options(data,
                 loaders=('train_dataloader', 'val_dataloader',
                          'test_dataloader')):
    """Point a config at the tiny data, with small batches."""
    options = ['default_hooks.logger.interval=1']
    for loader in loaders:
        options += [
            f'{loader}.dataset.data_root={data}',
            f'{loader}.batch_size=4',
            f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False',
        ]
    return options


TRAIN_OPTIONS = [
    'model.resolutions=[64,56]',
    'train_dataloader.dataset.pipeline.1.scale=64',
]


def test_progressive_shrinking_stage_configs_chain(tmp_path):
    """Each official stage config loads the previous stage's checkpoint
    (and from the kernel stage on distils from the teacher's), trains an
    epoch and validates its grid, as in the real schedule."""
    data = make_imagenet_like(
        tmp_path / 'data', num_train=8, num_val=4, size=72)
    eval_options = [
        'val_cfg.resolutions=[64]', 'val_cfg.calibrate_bn.num_images=4',
        'val_cfg.calibrate_bn.batch_size=4',
        'val_cfg.calibrate_bn.num_workers=0', 'train_cfg.max_epochs=1'
    ]
    previous = None
    teacher = tmp_path / 'ps_teacher_8xb64' / 'epoch_1.pth'
    logs = {}
    for stage in STAGES:
        options = tiny_options(data) + TRAIN_OPTIONS + eval_options
        if previous is not None:
            options += [
                f'load_from={previous}',
                f'model.distillation.teacher.checkpoint={teacher}'
            ]
        work = tmp_path / stage
        result = run_tool('tools/train.py', f'configs/ofa/{stage}.py',
                          '--work-dir', work, '--cfg-options', *options)
        logs[stage] = result.stdout + result.stderr
        previous = work / 'epoch_1.pth'
        assert previous.is_file(), stage
    assert "constraints {'kernel_size': [7], 'expand_ratio': [6], " \
        "'depth': [4]}, 1 subnet(s)" in logs['ps_teacher_8xb64']
    assert "constraints {'expand_ratio': [6], 'depth': [3, 4]}, 2 subnet" \
        in logs['ps_depth_phase1_8xb64']
    assert 'expand_ratio_stage=0' in logs['ps_expand_phase1_8xb64']
    assert 'expand_ratio_stage=1' in logs['ps_expand_phase2_8xb64']
    assert 'subnet0/loss_kd' in logs['ps_kernel_8xb64']
    # The grid of the last stage: {min, max} of depth, expand and kernel.
    for name in ('D2-E3-K3_R64', 'D4-E6-K7_R64', 'D2-E6-K3_R64'):
        assert f'{name}/accuracy/top1' in logs['ps_expand_phase2_8xb64']
    # 0.96 scaled from a total batch of 2048 to 4, first of 10 warmup
    # iterations from 1/32: 0.96 * 4 / 2048 * (1/32 + 31/32 * 1/10).
    assert ' lr: 2.4023e-04 ' in logs['ps_kernel_8xb64']


def test_one_job_schedule_config_runs(tmp_path):
    data = make_imagenet_like(
        tmp_path / 'data', num_train=8, num_val=4, size=72)
    result = run_tool('tools/train.py',
                      'configs/ofa/ofa_mbv3_w10_ps_8xb64_in1k.py',
                      '--work-dir', tmp_path / 'work', '--cfg-options',
                      *tiny_options(data), 'train_cfg.max_epochs=1',
                      'train_cfg.val_interval=10')
    assert "stage 'teacher' (started)" in result.stdout + result.stderr
    meta = load_checkpoint_file(tmp_path / 'work' / 'epoch_1.pth')['meta']
    assert meta['progressive_shrinking']['current'] == 'teacher'


def test_subnet_test_config_with_supernet_and_exported_checkpoints(tmp_path):
    """tools/test.py and tools/dist_test.sh with the subnet test config:
    a supernet checkpoint with a subnet YAML, then the exported static
    checkpoint of the same subnet. Without BN recalibration both give the
    same predictions, so the same accuracy."""
    data = make_imagenet_like(
        tmp_path / 'data', num_train=8, num_val=8, size=72, num_labels=4)
    model = init_model('configs/ofa/ofa_mbv3_w10_supernet.py')
    supernet = tmp_path / 'supernet.pth'
    torch.save({'state_dict': model.state_dict()}, supernet)
    subnet = 'configs/subnets/mmrazor_note8_lat22.yaml'
    exported = save_subnet(model, tmp_path / 'lat22.pth', subnet)['checkpoint']
    config = 'configs/ofa/ofa_mbv3_subnet_8xb256_in1k.py'
    loaders = ('test_dataloader', 'test_cfg.calibration_dataloader')
    options = tiny_options(data, loaders) + ['test_cfg.calibrate_bn=None']

    out = run_tool('tools/test.py', config, supernet, '--work-dir',
                   tmp_path / 't1', '--cfg-options', f'model.subnet={subnet}',
                   *options)
    log = out.stdout + out.stderr
    accuracy = log.split('current_R140/accuracy/top1: ')[1].split()[0]

    out = run_tool(
        'bash',
        'tools/dist_test.sh',
        config,
        exported,
        '2',
        '--work-dir',
        tmp_path / 't2',
        '--cfg-options',
        *options,
        env={'PORT': free_port()})
    log = out.stdout + out.stderr
    assert f'static_R140/accuracy/top1: {accuracy}' in log

    # With recalibration (on the training images) the supernet test runs.
    out = run_tool('tools/test.py', config, supernet, '--work-dir',
                   tmp_path / 't3', '--cfg-options', f'model.subnet={subnet}',
                   *tiny_options(data, loaders),
                   'test_cfg.calibrate_bn.num_images=8',
                   'test_cfg.calibrate_bn.batch_size=4',
                   'test_cfg.calibrate_bn.num_workers=0')
    assert 'current_R140/accuracy/top1' in out.stdout + out.stderr
