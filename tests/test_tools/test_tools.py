import hashlib
import subprocess
import sys

import torch
from helpers import REFERENCE, REPO, W10_CONFIG

from mmofa.apis import init_model


def run(*args):
    result = subprocess.run([sys.executable, *map(str, args)],
                            cwd=REPO,
                            capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def digest(folder):
    sha = hashlib.sha256()
    for path in sorted(folder.rglob('*.png')):
        sha.update(path.relative_to(folder).as_posix().encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()


def test_demo_dataset_is_deterministic(tmp_path):
    for name in ('a', 'b'):
        run('tools/dataset_converters/make_demo_dataset.py', tmp_path / name,
            '--train-per-class', 2, '--val-per-class', 1, '--size', 32)
    assert len(list((tmp_path / 'a' / 'train').rglob('*.png'))) == 20
    assert len(list((tmp_path / 'a' / 'val').iterdir())) == 10
    assert digest(tmp_path / 'a') == digest(tmp_path / 'b')


def test_sample_subnets_prints_table_and_exports(tmp_path):
    run('tools/dataset_converters/make_demo_dataset.py', tmp_path / 'data',
        '--train-per-class', 1, '--val-per-class', 1, '--size', 32)
    out = run('tools/analysis/sample_subnets.py', W10_CONFIG, '--num-subnets',
              2, '--images', tmp_path / 'data' / 'val', '--subnets',
              REFERENCE / 'mmrazor_OFA_SUBNET_NOTE8_LAT22.yaml', '--export',
              'mmrazor_OFA_SUBNET_NOTE8_LAT22', '--work-dir',
              tmp_path / 'work')
    lines = out.splitlines()
    assert lines[0].split() == [
        'subnet', 'res', 'depth', 'MFLOPs', 'Params(M)'
    ]
    rows = {line.split()[0]: line.split() for line in lines[2:6]}
    assert rows['max'][3] == '566.2' and rows['min'][3] == '121.3'
    assert 'random_1' in rows
    assert 'max |logit difference| = 0.00e+00' in out
    assert (tmp_path / 'work' / 'mmrazor_OFA_SUBNET_NOTE8_LAT22.pth').is_file()


def test_export_subnet_tool(tmp_path):
    supernet = init_model(W10_CONFIG)
    ckpt = tmp_path / 'supernet.pth'
    torch.save({'state_dict': supernet.state_dict()}, ckpt)
    out = run('tools/export_subnet.py', W10_CONFIG, ckpt,
              REFERENCE / 'mmrazor_OFA_SUBNET_NOTE8_LAT31.yaml', '--out',
              tmp_path / 'lat31.pth')
    assert '100.5 MFLOPs' in out and 'at 152px' in out
    static = init_model(tmp_path / 'lat31_config.py', tmp_path / 'lat31.pth')
    supernet.set_subnet(tmp_path / 'lat31.yaml')
    x = torch.randn(1, 3, 152, 152)
    with torch.no_grad():
        assert (static(x) - supernet(x)).abs().max() <= 1e-5
