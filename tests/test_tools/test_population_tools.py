"""Population analysis tools on the tiny supernet and tiny data:
eval_population.py (random, FLOPs buckets, files; split, resume, merge),
merge_population.py, get_flops.py, and Kendall's tau."""
import csv
import itertools
import json
import math
import random

import pytest
import torch
from helpers import REPO, free_port, make_imagenet_like, perturb_, run_tool

from mmofa.apis import init_model
from mmofa.engine.runner.population_results import kendall_tau, parse_shard
from mmofa.engine.runner.subnet_population_loop import check_population

CONFIG = REPO / 'tests/configs/tiny_population.py'
EVAL = 'tools/analysis/eval_population.py'
NAMES = [f'random{i}' for i in range(6)]


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('population')
    data = make_imagenet_like(root / 'data', num_train=8, num_val=8)
    supernet = perturb_(init_model(CONFIG))
    with torch.no_grad():  # predictions that differ between subnets
        supernet.architecture.head.fc.weight.mul_(50)
    checkpoint = root / 'supernet.pth'
    torch.save({'state_dict': supernet.state_dict()}, checkpoint)
    return root, dict(MMOFA_TEST_DATA=str(data)), checkpoint, supernet


def evaluate(setup, work, *options, check=True):
    root, env, checkpoint, _ = setup
    result = run_tool(
        EVAL,
        CONFIG,
        checkpoint,
        '--work-dir',
        work,
        *options,
        env=env,
        check=check)
    return result, result.stdout + result.stderr


def results(work):
    return json.loads((work / 'population/results.json').read_text())


@pytest.fixture(scope='module')
def one_process(setup):
    work = setup[0] / 'one'
    evaluate(setup, work)
    return work


def test_random_population_files(setup, one_process):
    supernet = setup[3]
    work = one_process / 'population'
    with open(work / 'population.csv') as file:
        rows = list(csv.DictReader(file))
    assert [r['name'] for r in rows] == NAMES
    submission = json.loads((work / 'population.json').read_text())
    assert list(submission) == NAMES
    for row in rows:
        arch = submission[row['name']]['arch']
        assert arch == json.loads(row['arch'])
        assert arch['resolution'] == int(row['resolution']) == 32
        cost = supernet.estimate_resources(arch, 32)
        assert float(row['flops']) == cost['macs'] / 1e6
        assert float(row['params']) == cost['params'] / 1e6
        assert float(row['score']) == submission[row['name']]['acc']
    # The subnets of SubnetValLoop's dict(type='random', num=6, seed=0).
    generator = random.Random(0)
    for name in NAMES:
        expected = supernet.sample_subnet('random', generator)
        assert supernet.backbone.parse_subnet(
            submission[name]['arch']) == expected.with_resolution(32)
    assert len({r['score'] for r in rows}) > 1
    summary = results(one_process)['summary']
    assert summary['num_subnets'] == 6
    assert (work / 'population.png').read_bytes()[:4] == b'\x89PNG'


def test_split_over_two_processes_equals_one_process(setup, one_process):
    root = setup[0]
    expected = results(one_process)
    # torchrun, 2 CPU processes (gloo): one shard per rank, gathered.
    torchrun = root / 'torchrun'
    run_tool(
        'tools/dist_test.sh',
        CONFIG,
        setup[2],
        '2',
        '--work-dir',
        torchrun,
        env=dict(setup[1], TOOL=EVAL.replace('tools/', ''), PORT=free_port()))
    # Two independent workers; the second to finish merges.
    workers = root / 'workers'
    _, log = evaluate(setup, workers, '--shard', '0/2')
    assert 'population shard 0/2 done; not merged yet' in log
    assert 'shards 1/2' in log
    evaluate(setup, workers, '--shard', '1/2')
    for work in (torchrun, workers):
        assert sorted(p.name
                      for p in (work / 'population/shards').iterdir()) == [
                          'shard_0_of_2.json', 'shard_1_of_2.json'
                      ]
        shard = json.loads(
            (work / 'population/shards/shard_1_of_2.json').read_text())
        assert [r['name'] for r in shard['records']] == NAMES[1::2]
        # Every accuracy, FLOPs and params figure equal, files byte-equal.
        assert results(work)['subnets'] == expected['subnets']
        for name in ('population.json', 'results.json', 'population.csv'):
            assert (work / 'population' /
                    name).read_bytes() == (one_process / 'population' /
                                           name).read_bytes()
    # merge_population.py writes the same files from the shards.
    (workers / 'population/results.json').unlink()
    run_tool('tools/analysis/merge_population.py', workers)
    assert results(workers) == expected


def test_resume_evaluates_only_missing_subnets(setup, one_process):
    work = setup[0] / 'resume'
    shards = work / 'population/shards'
    shards.mkdir(parents=True)
    partial = json.loads(
        (one_process / 'population/shards/shard_0_of_1.json').read_text())
    partial['records'] = partial['records'][:2]
    for record in partial['records']:
        record['score'] = record['metrics']['accuracy/top1'] = 123.0
    (shards / 'shard_0_of_1.json').write_text(json.dumps(partial))
    _, log = evaluate(setup, work)
    assert 'resuming, 2 of 6 subnets already evaluated' in log
    # A line per subnet evaluated, naming it; none for the 2 kept.
    assert log.count('subnets evaluated ') == 4
    assert 'subnets evaluated 3/6 (50 %)' in log
    assert 'subnets evaluated 2/6' not in log
    resumed = results(work)['subnets']
    expected = results(one_process)['subnets']
    # The saved records were kept (not evaluated again), the rest equal
    # an uninterrupted run.
    assert [r['score'] for r in resumed[:2]] == [123.0, 123.0]
    assert resumed[2:] == expected[2:]
    # Other settings with the same work dir are refused by name.
    refused, log = evaluate(
        setup, work, '--num', '6', '--seed', '1', check=False)
    assert refused.returncode != 0
    assert (
        "saved with other settings (population: {'seed': 0, 'num': 6, "
        "'type': 'random'} -> {'seed': 1, 'num': 6, 'type': 'random'})") in log


def test_flops_buckets_within_tolerance(setup):
    supernet = setup[3]
    low, high = (
        supernet.estimate_resources(supernet.sample_subnet(m), 32)['macs'] /
        1e6 for m in ('min', 'max'))
    targets = [round(low + (high - low) * f, 3) for f in (0.4, 0.6)]
    work = setup[0] / 'buckets'
    evaluate(setup, work, '--flops-buckets', *targets, '--tolerance', '0.01',
             '--per-bucket', '2', '--seed', '3')
    records = results(work)['subnets']
    assert [r['name'] for r in records
            ] == [f'flops{t:g}-{j}' for t in targets for j in range(2)]
    for record in records:
        assert abs(record['flops'] - record['target']) <= 0.01
        cost = supernet.estimate_resources(record['arch'], 32)
        assert record['flops'] == cost['macs'] / 1e6
    buckets = results(work)['summary']['buckets']
    assert list(buckets) == [f'{t:g}' for t in targets]
    assert all(b['num_subnets'] == 2 for b in buckets.values())

    # A target no subnet reaches: an error naming it and the range.
    result, log = evaluate(
        setup,
        setup[0] / 'no_bucket',
        '--flops-buckets',
        '50',
        '--max-draws',
        '200',
        check=False)
    assert result.returncode != 0
    assert ('target 50 MFLOPs at 32px: 0 of 10 subnets within +-0.5 after '
            'max_draws = 200 random draws; subnets range from '
            f'{low:.2f} to {high:.2f} MFLOPs') in log


def test_track_format_file_keeps_order_and_reports_kendall_tau(setup):
    supernet = setup[3]
    generator = random.Random(7)
    names = ['arch10', 'arch2', 'arch1', 'arch30']  # not sorted
    archs = {}
    for i, name in enumerate(names):
        subnet = supernet.sample_subnet('random', generator)
        archs[name] = dict(
            arch=supernet.dump_subnet(subnet, 'arch_dict'), acc=float(i))
    path = setup[0] / 'track.json'
    path.write_text(json.dumps(archs))
    work = setup[0] / 'track'
    evaluate(setup, work, '--subnets', path)
    submission = json.loads((work / 'population/population.json').read_text())
    assert list(submission) == names
    given = json.loads(path.read_text())
    assert all(submission[n]['arch'] == given[n]['arch'] for n in names)
    data = results(work)
    scores = [submission[n]['acc'] for n in names]
    assert data['summary']['num_references'] == 4
    assert data['summary']['kendall_tau'] == pytest.approx(
        kendall_tau(scores, [0.0, 1.0, 2.0, 3.0]))

    # An entry that is not a subnet of this supernet: named in the error.
    archs['arch2']['arch']['ks'][0] = 9
    path.write_text(json.dumps(archs))
    result, log = evaluate(
        setup, setup[0] / 'bad', '--subnets', path, check=False)
    assert result.returncode != 0
    assert f"population file {path}, entry 'arch2'" in log
    assert '9' in log.splitlines()[-1]


def test_get_flops_equals_the_estimator(setup, tmp_path):
    supernet = setup[3]
    cost = supernet.estimate_resources(supernet.sample_subnet('max'), 224)
    result = run_tool('tools/analysis/get_flops.py', CONFIG)
    assert (f'subnet: max\nresolution: 224\n'
            f'MFLOPs: {cost["macs"] / 1e6:.2f} (multiply-accumulates)\n'
            f'params: {cost["params"] / 1e6:.2f} M ({cost["params"]})'
            ) in result.stdout
    subnet = supernet.sample_subnet('random', 5).with_resolution(48)
    path = tmp_path / 'subnet.yaml'
    path.write_text(json.dumps(supernet.dump_subnet(subnet)))
    cost = supernet.estimate_resources(subnet, 48)
    result = run_tool('tools/analysis/get_flops.py', CONFIG, path)
    assert f'resolution: 48\nMFLOPs: {cost["macs"] / 1e6:.2f}' in (
        result.stdout)


def sign(value) -> int:
    return (value > 0) - (value < 0)


def test_kendall_tau_equals_the_pairwise_definition():
    generator = random.Random(0)
    for n in (2, 3, 10, 57):
        x = [generator.randint(0, 5) for _ in range(n)]  # many ties
        y = [generator.choice([0.5, 1.0, 1.5, 2.0]) for _ in range(n)]
        concordance = ties_x = ties_y = 0
        for i, j in itertools.combinations(range(n), 2):
            dx, dy = x[i] - x[j], y[i] - y[j]
            concordance += sign(dx) * sign(dy)
            ties_x += dx == 0
            ties_y += dy == 0
        pairs = n * (n - 1) // 2
        denominator = math.sqrt((pairs - ties_x) * (pairs - ties_y))
        tau = kendall_tau(x, y)
        if denominator == 0:
            assert math.isnan(tau)
        else:
            assert tau == pytest.approx(concordance / denominator, abs=1e-12)
    assert kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    assert math.isnan(kendall_tau([1, 2, 3], [5, 5, 5]))
    with pytest.raises(ValueError, match='one length'):
        kendall_tau([1, 2], [1, 2, 3])


def test_bad_shard_and_population_settings():
    assert parse_shard('1/4') == (1, 4)
    with pytest.raises(ValueError, match=r"shard = '2/2': needs n >= 1"):
        parse_shard('2/2')
    with pytest.raises(ValueError, match=r'expected "i/n"'):
        parse_shard('first')
    with pytest.raises(
            KeyError,
            match=r"unknown keys 'tolerence' \(did you mean 'tolerance'\?\)"):
        check_population(dict(type='flops_buckets', targets=[1], tolerence=1))
    with pytest.raises(ValueError, match="num = 0 must be a positive"):
        check_population(dict(type='random', num=0))
    with pytest.raises(ValueError, match="'random' / 'flops_buckets' / "):
        check_population(dict(type='grid'))


def test_track_file_of_resnet48_codes_in_submission_format(tmp_path):
    """The track's input: 52-digit codes (resolution digit first) by arch
    name; the output keeps names, order and codes, with the accuracies."""
    config = REPO / 'tests/configs/tiny_population_resnet48.py'
    data = make_imagenet_like(tmp_path / 'data', num_train=8, num_val=8)
    supernet = perturb_(init_model(config))
    checkpoint = tmp_path / 'supernet.pth'
    torch.save({'state_dict': supernet.state_dict()}, checkpoint)
    generator = random.Random(3)
    track = {}
    for i in (1, 2, 3):
        supernet.sample_subnet('random', generator)
        track[f'arch{i}'] = dict(
            acc=0.0, arch=supernet.dump_subnet(fmt='track_arch'))
    path = tmp_path / 'CVPR_2022_NAS_Track1_test.json'
    path.write_text(json.dumps(track))
    run_tool(
        EVAL,
        config,
        checkpoint,
        '--subnets',
        path,
        '--resolution',
        '32',
        '--work-dir',
        tmp_path / 'work',
        env=dict(MMOFA_TEST_DATA=str(data)))
    submission = json.loads(
        (tmp_path / 'work/population/population.json').read_text())
    assert list(submission) == ['arch1', 'arch2', 'arch3']
    for name, entry in submission.items():
        assert entry['arch'] == track[name]['arch']
        assert len(entry['arch']) == 52
        assert 0.0 <= entry['acc'] <= 100.0
    records = results(tmp_path / 'work')['subnets']
    assert [r['name'] for r in records] == list(track)
    for record in records:
        code = track[record['name']]['arch']
        cost = supernet.estimate_resources(code, record['resolution'])
        assert record['flops'] == cost['macs'] / 1e6
