"""The documented forms of the tools, and the errors a newcomer meets:
every tools/dist_*.sh form with its options on 2 CPU processes, one
resolution check, unwritable outputs, absent devices, a latency table that
does not predict, the thread policy."""
import json
import re

import numpy as np
import pytest
import torch
from helpers import REPO, free_port, make_imagenet_like, perturb_, run_tool

from mmofa.apis import init_model

TINY = REPO / 'tests/configs/tiny_ps.py'
SEARCH = REPO / 'tests/configs/tiny_search.py'
POPULATION = REPO / 'tests/configs/tiny_population.py'
SUPERNET = REPO / 'configs/ofa/ofa_mbv3_w10_supernet.py'
UNWRITABLE = '/proc/1/mmofa_out'  # not writable, even by root


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('forms')
    data = make_imagenet_like(root / 'data', num_train=8, num_val=4)
    torch.manual_seed(0)
    checkpoint = root / 'supernet.pth'
    torch.save({'state_dict': perturb_(init_model(TINY)).state_dict()},
               checkpoint)
    return root, {'MMOFA_TEST_DATA': str(data)}, checkpoint


# The documented forms of dist_test.sh's tools, with options a torchrun
# parser would take for its own (--num: --numa-binding). (dist_train.sh and
# the test tool on 2 processes: test_training_runs.py, test_configs_run.py.)
FORMS = {
    'search': ('tools/dist_test.sh', 'search.py', [SEARCH, None, '2'],
               ['--cfg-options', 'test_cfg.generations=1'], 'search results'),
    'population': ('tools/dist_test.sh', 'analysis/eval_population.py',
                   [POPULATION, None, '2'], ['--num', '4', '--seed',
                                             '1'], 'population: 4 subnets'),
}


@pytest.mark.parametrize('form', list(FORMS))
def test_every_distributed_form_runs_on_two_processes(setup, tmp_path, form):
    root, env, checkpoint = setup
    script, tool, positional, options, expected = FORMS[form]
    args = [checkpoint if a is None else a for a in positional]
    env = dict(env, PORT=free_port())
    if tool:
        env['TOOL'] = tool
    result = run_tool(
        'bash',
        script,
        *args,
        '--work-dir',
        tmp_path,
        *options,
        env=env,
        timeout=400)
    log = result.stdout + result.stderr
    assert 'ambiguous option' not in log
    assert expected in log, log[-3000:]


def test_get_flops_checks_the_resolution_as_training_does():
    result = run_tool(
        'tools/analysis/get_flops.py',
        SUPERNET,
        '--resolution',
        '8',
        check=False)
    assert result.returncode != 0
    assert ('--resolution: resolution = 8 is below 32, the network\'s total '
            'stride; allowed: integers >= 32') in result.stderr
    assert 'MFLOPs' not in result.stdout


@pytest.mark.parametrize('tool,args', [
    ('tools/export_subnet.py', [SUPERNET, 'none.pth', 'x.yaml', '--out']),
    ('tools/deployment/export_onnx.py', [SUPERNET, 'none.pth', '--out']),
    ('tools/convert_ofa_ckpt.py', ['none.pth']),
    ('tools/train.py', [TINY, '--work-dir']),
])
def test_unwritable_outputs_are_refused_before_work(tool, args):
    target = UNWRITABLE + ('/sub.pth'
                           if '--out' in args or 'convert' in tool else '')
    result = run_tool(tool, *args, target, check=False)
    assert result.returncode != 0
    assert 'PermissionError' in result.stderr
    assert f"'{target}'" in result.stderr and 'nothing was written' in \
        result.stderr


def test_a_missing_gpu_is_named(tmp_path):
    from mmofa.utils.device import check_device
    if torch.cuda.is_available():
        pytest.skip('this machine has a GPU')
    with pytest.raises(
            RuntimeError,
            match=r"init_model\(device=...\) = "
            r"'cuda' but this machine has no usable GPU"):
        init_model(SUPERNET, device='cuda')
    with pytest.raises(ValueError, match="'gpu' is not a device"):
        check_device('gpu')


def test_a_latency_table_that_does_not_predict_is_flagged(tmp_path):
    """A table that prices every part three times over (as if measured on
    a slower machine) does not predict: the check warns with its figure
    and exits 3."""
    table = tmp_path / 'table.json'
    common = [
        TINY, '--out', table, '--resolutions', '32', '64', '--repeats', '2',
        '--warmup', '1'
    ]
    built = run_tool('tools/analysis/build_latency_table.py', *common,
                     '--check', '0')
    # The progress reaches every part and calibration subnet.
    done = re.findall(r' (\d+)/(\d+), ', built.stdout)
    assert done and done[-1][0] == done[-1][1], built.stdout[-2000:]
    data = json.loads(table.read_text())
    assert data['correction']['subnets'] == 20
    data['fixed'] = (3 * np.asarray(data['fixed'])).tolist()
    data['entries'] = (3 * np.asarray(data['entries'])).tolist()
    table.write_text(json.dumps(data))
    result = run_tool(
        'tools/analysis/build_latency_table.py',
        *common,
        '--existing',
        '--check',
        '12',
        check=False,
        env={'MMOFA_TEST_DATA': 'unused'})
    assert result.returncode == 3, result.stderr[-2000:]
    assert re.search(
        r'WARNING: this table does not predict the measured latency '
        r'\((Kendall tau -?[\d.]+ < 0.6; )?mean absolute percentage error '
        r'[\d.]+ % > 25.0 %\)',
        result.stderr), result.stderr[-2000:]
    assert 'more repeats (--repeats), fewer threads (--threads 1)' in \
        result.stderr


def test_the_thread_count_is_chosen_and_logged(setup, tmp_path):
    root, env, checkpoint = setup
    result = run_tool(
        'tools/test.py',
        TINY,
        checkpoint,
        '--work-dir',
        tmp_path,
        '--threads',
        '1',
        '--cfg-options',
        'test_cfg.subnets=[min]',
        env=env)
    assert 'torch CPU threads: 1 (env_cfg.num_threads / --threads)' in \
        result.stdout + result.stderr
    result = run_tool(
        'tools/test.py',
        TINY,
        checkpoint,
        '--work-dir',
        tmp_path,
        '--cfg-options',
        'test_cfg.subnets=[min]',
        env=dict(env, OMP_NUM_THREADS='2'))
    assert 'torch CPU threads: 2 (OMP_NUM_THREADS)' in \
        result.stdout + result.stderr


def test_test_writes_predictions_and_draws_them(setup, tmp_path):
    root, env, checkpoint = setup
    out = tmp_path / 'results.json'
    shown = tmp_path / 'shown'
    result = run_tool(
        'tools/test.py',
        TINY,
        checkpoint,
        '--work-dir',
        tmp_path / 'w',
        '--out',
        out,
        '--show-dir',
        shown,
        '--interval',
        '2',
        env=env)
    assert f'written to {out}' in result.stdout + result.stderr
    subnets = json.loads(out.read_text())['subnets']
    assert list(subnets) == ['max_R32', 'min_R32']
    for name, entry in subnets.items():
        assert len(entry['predictions']) == 4  # every val image
        first = entry['predictions'][0]
        assert len(first['pred_score']) == 4  # the tiny net's classes
        assert 0 <= first['pred_label'] < 4 and 'gt_label' in first
        correct = sum(p['pred_label'] == p['gt_label']
                      for p in entry['predictions'])
        assert entry['metrics']['accuracy/top1'] == pytest.approx(100 *
                                                                  correct / 4)
        drawn = sorted((shown / name).glob('*.png'))
        assert len(drawn) == 2  # images 0 and 2
        assert all(p.stat().st_size > 500 for p in drawn)


FAKE_SRUN = '''#!/usr/bin/env python3
"""srun stand-in: runs --ntasks copies of the command here, with srun's
environment (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, ...)."""
import os, subprocess, sys
args, tasks, per_node = sys.argv[1:], 1, None
while args and args[0].startswith('-'):
    option = args.pop(0)
    if option in ('-p', '-N', '-n'):
        args.pop(0)
    elif option.startswith('--ntasks='):
        tasks = int(option.split('=')[1])
    elif option.startswith('--ntasks-per-node='):
        per_node = option.split('=')[1]
procs = [subprocess.Popen(args, env=dict(
    os.environ, SLURM_PROCID=str(i), SLURM_NTASKS=str(tasks),
    SLURM_LOCALID=str(i), SLURM_NTASKS_PER_NODE=per_node or str(tasks),
    SLURM_NODELIST='localhost', MASTER_ADDR='127.0.0.1'))
    for i in range(tasks)]
sys.exit(max(p.wait() for p in procs))
'''


def test_slurm_scripts_run_on_cpu_processes(setup, tmp_path):
    root, env, checkpoint = setup
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'srun').write_text(FAKE_SRUN)
    (bin_dir / 'srun').chmod(0o755)
    import os
    env = dict(
        env,
        PATH=f'{bin_dir}:{os.environ["PATH"]}',
        GPUS='2',
        GPUS_PER_NODE='2',
        PORT=free_port())
    trained = run_tool(
        'bash',
        'tools/slurm_train.sh',
        'cpu',
        'job',
        TINY,
        tmp_path / 'train',
        '--cfg-options',
        'train_cfg.max_epochs=1',
        'train_cfg.val_interval=5',
        env=env,
        timeout=400)
    log = trained.stdout + trained.stderr
    assert 'Saving checkpoint at 1 epochs' in log
    rank0 = torch.load(tmp_path / 'train' / 'rank0.pth', weights_only=True)
    rank1 = torch.load(tmp_path / 'train' / 'rank1.pth', weights_only=True)
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)
    tested = run_tool(
        'bash',
        'tools/slurm_test.sh',
        'cpu',
        'job',
        TINY,
        checkpoint,
        '--work-dir',
        tmp_path / 'test',
        env=dict(env, PORT=free_port()),
        timeout=400)
    assert 'min_R32/accuracy/top1' in tested.stdout + tested.stderr
