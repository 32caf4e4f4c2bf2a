"""tools/search.py on every supernet family: the OFA ResNet50 space, the
CompOFA space, and the CVPR 2022 track workflow on the ResNet-48 space
(population, predictor with Kendall tau on held-out subnets, search)."""
import csv
import json

import pytest
import torch
from helpers import REPO, make_imagenet_like, perturb_, run_tool

from mmofa.apis import init_model
from mmofa.models.task_modules import count_macs_params

CONFIGS = REPO / 'tests/configs'


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_imagenet_like(
        tmp_path_factory.mktemp('data'), num_train=8, num_val=8)


def supernet_checkpoint(config, path):
    torch.manual_seed(0)
    model = perturb_(init_model(config))
    with torch.no_grad():  # predictions that differ between subnets
        model.architecture.head.fc.weight.mul_(50)
    torch.save({'state_dict': model.state_dict()}, path)
    return path


def read_csv(path):
    with open(path) as file:
        return list(csv.DictReader(file))


def check_results(work, limits):
    """Every best subnet's exported model is within its limit by a hook
    count, and the best score never falls as the limit loosens."""
    rows = read_csv(work / 'search/results.csv')
    assert [float(r['score'])
            for r in rows] == sorted(float(r['score']) for r in rows)
    for row, limit in zip(rows, limits):
        folder = work / 'search' / row['constraint']
        static = init_model(folder / 'best_config.py', folder / 'best.pth')
        size = int(row['resolution'])
        macs, _ = count_macs_params(static, (1, 3, size, size),
                                    lambda m, x: m(x, mode='tensor'))
        assert macs / 1e6 <= limit
        assert float(row['flops']) == pytest.approx(macs / 1e6)
    return rows


@pytest.mark.parametrize('family,limits', [('resnet', (0.9, 1.4)),
                                           ('compofa', (0.5, 0.8))])
def test_search_of_a_family(data, tmp_path, family, limits):
    config = CONFIGS / f'tiny_search_{family}.py'
    checkpoint = supernet_checkpoint(config, tmp_path / 'supernet.pth')
    work = tmp_path / 'work'
    result = run_tool(
        'tools/search.py',
        config,
        checkpoint,
        '--work-dir',
        work,
        '--cfg-options',
        'test_cfg.generations=2',
        env={'MMOFA_TEST_DATA': str(data)})
    assert 'generation 2/2' in result.stdout + result.stderr
    check_results(work, limits)
    if family == 'compofa':
        for row in read_csv(work / 'search/results.csv'):
            subnet = init_model(config).backbone.parse_subnet(row['subnet'])
            for stage, depth in enumerate(subnet.depth):
                assert set(subnet.expand_ratio[stage]) == {{
                    2: 3,
                    3: 4,
                    4: 6
                }[depth]}


def test_cvpr_track_workflow_on_the_resnet48_space(data, tmp_path):
    """Population evaluation, the predictor fitted to it (Kendall tau on the
    held-out subnets), then a search scored by that predictor."""
    env = {'MMOFA_TEST_DATA': str(data)}
    config = CONFIGS / 'tiny_search_resnet48.py'
    checkpoint = supernet_checkpoint(config, tmp_path / 'supernet.pth')
    population = tmp_path / 'population'
    run_tool(
        'tools/analysis/eval_population.py',
        CONFIGS / 'tiny_population_resnet48.py',
        checkpoint,
        '--work-dir',
        population,
        '--num',
        '20',
        '--cfg-options',
        'model.architecture.backbone.base_channels=[16,16,24,32]',
        env=env)
    results = population / 'population/results.json'
    assert len(json.loads(results.read_text())['subnets']) == 20
    fitted = run_tool(
        'tools/search.py',
        CONFIGS / 'tiny_predictor_resnet48.py',
        checkpoint,
        '--work-dir',
        tmp_path / 'predictor',
        '--cfg-options',
        f'test_cfg.dataset={results}',
        env=env)
    log = fitted.stdout + fitted.stderr
    assert f'accuracy predictor: 20 measured subnets from {results}' in log
    assert 'Kendall tau' in log and 'on 4 held-out subnets' in log
    predictor = tmp_path / 'predictor/predictor/predictor.pth'
    meta = torch.load(predictor, weights_only=True)['meta']
    assert -1 <= meta['val_kendall_tau'] <= 1
    work = tmp_path / 'search'
    run_tool(
        'tools/search.py',
        config,
        checkpoint,
        '--work-dir',
        work,
        '--cfg-options',
        f'test_cfg.predictor.checkpoint={predictor}',
        env=env)
    rows = check_results(work, (1.8, 2.4))
    for row in rows:  # the track's arch codes come back out
        subnet = init_model(config).backbone.parse_subnet(row['subnet'])
        code = init_model(config).backbone.dump_subnet(subnet, 'arch_code')
        assert len(code) == 51
