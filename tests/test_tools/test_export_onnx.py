import re

import pytest
import torch
from helpers import perturb_, run_tool, tiny_supernet_cfg

from mmofa.apis import init_model, save_subnet

pytest.importorskip('onnxruntime')


@pytest.fixture(scope='module')
def supernet_files(tmp_path_factory):
    root = tmp_path_factory.mktemp('onnx')
    cfg = dict(model=tiny_supernet_cfg())
    model = perturb_(init_model(cfg))
    with torch.no_grad():  # logits of order 1-10, not the init's 1e-9
        model.architecture.head.fc.weight.mul_(50)
    config = root / 'tiny.py'
    model.cfg.dump(str(config))
    checkpoint = root / 'supernet.pth'
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    model.set_subnet(
        dict(ks=[5] * 20, e=[4] * 20, d=[2, 3, 4, 3, 2], image_size=40))
    paths = save_subnet(model, root / 'subnet.pth')
    return root, config, checkpoint, paths


def test_logits_are_not_trivial(supernet_files):
    _, config, checkpoint, _ = supernet_files
    model = init_model(config, checkpoint)
    assert model(torch.randn(2, 3, 40, 40)).abs().max() > 1.0


def difference(result):
    match = re.search(r'max \|logit difference\| = (\S+) ', result.stdout)
    return float(match.group(1))


def test_static_subnet_to_onnx_matches_torch(supernet_files):
    root, config, _, paths = supernet_files
    out = root / 'static.onnx'
    result = run_tool('tools/deployment/export_onnx.py', paths['config'],
                      paths['checkpoint'], '--out', out)
    assert 'N x 3 x 40 x 40' in result.stdout  # the subnet's resolution
    assert difference(result) <= 1e-4
    assert out.stat().st_size > 10_000
    # The same static checkpoint with the supernet's config.
    again = run_tool('tools/deployment/export_onnx.py', config,
                     paths['checkpoint'], '--out', root / 'again.onnx')
    assert difference(again) <= 1e-4


def test_supernet_needs_a_subnet(supernet_files):
    root, config, checkpoint, paths = supernet_files
    result = run_tool('tools/deployment/export_onnx.py', config, checkpoint,
                      '--subnet', paths['subnet'], '--resolution', 32, '--out',
                      root / 'sub.onnx')
    assert 'N x 3 x 32 x 32' in result.stdout
    assert difference(result) <= 1e-4
    refused = run_tool(
        'tools/deployment/export_onnx.py',
        config,
        checkpoint,
        '--out',
        root / 'none.onnx',
        check=False)
    assert refused.returncode != 0
    assert 'give --subnet' in refused.stderr
    assert not (root / 'none.onnx').exists()
