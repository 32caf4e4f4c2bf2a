"""tools/search.py end to end on the tiny supernet and tiny data."""
import csv
import json
import re

import pytest
import torch
from helpers import (REPO, make_imagenet_like, perturb_, run_tool,
                     tiny_supernet_cfg)

from mmofa.apis import init_model
from mmofa.models.task_modules import (build_latency_table, count_macs_params,
                                       save_latency_table)

SEARCH = REPO / 'tests/configs/tiny_search.py'
FINETUNE = REPO / 'tests/configs/tiny_finetune.py'
PREDICTOR = REPO / 'tests/configs/tiny_predictor.py'
NSGA2 = REPO / 'tests/configs/tiny_search_nsga2.py'


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('search')
    data = make_imagenet_like(root / 'data', num_train=8, num_val=8)
    supernet = perturb_(init_model(dict(model=tiny_supernet_cfg())))
    with torch.no_grad():  # predictions that differ between subnets
        supernet.architecture.head.fc.weight.mul_(50)
    checkpoint = root / 'supernet.pth'
    torch.save({'state_dict': supernet.state_dict()}, checkpoint)
    return root, dict(MMOFA_TEST_DATA=str(data)), checkpoint


def count_parameters(module, inputs):
    """A deterministic timer: a part's parameter count."""
    return sum(p.numel() for p in module.parameters())


def read_csv(path):
    with open(path) as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope='module')
def searched(setup):
    root, env, checkpoint = setup
    work = root / 'work'
    result = run_tool(
        'tools/search.py', SEARCH, checkpoint, '--work-dir', work, env=env)
    return work, result.stdout + result.stderr


def test_search_sweep_exports_subnets_within_limits(setup, searched):
    root, env, checkpoint = setup
    work, log = searched
    assert 'search flops0.8: generation 3/3' in log
    # Progress while candidates are evaluated, with the subnet count.
    assert re.search(
        r'search flops0.8: initial population: candidates '
        r'evaluated \d+/\d+ \(100 %\), 0:00:\d\d elapsed', log)
    assert 'search flops1.5: generation 1/3: candidates evaluated' in log
    rows = read_csv(work / 'search/results.csv')
    assert [r['constraint'] for r in rows] == ['flops0.8', 'flops1.5']
    assert (work / 'search/pareto_flops.png').stat().st_size > 1000
    for row, limit in zip(rows, (0.8, 1.5)):
        folder = work / 'search' / row['constraint']
        assert row['checkpoint'] == str(folder / 'best.pth')
        static = init_model(folder / 'best_config.py', folder / 'best.pth')
        size = int(row['resolution'])
        macs, params = count_macs_params(static, (1, 3, size, size))
        assert macs / 1e6 <= limit
        assert float(row['flops']) == pytest.approx(macs / 1e6)
        assert float(row['params']) == pytest.approx(params / 1e6)
        # The exported subnet (BN recalibrated as for its score) tested on
        # its own gives the score the search measured.
        test = run_tool(
            'tools/test.py',
            folder / 'best_config.py',
            folder / 'best.pth',
            '--work-dir',
            root / 'test',
            env=env)
        score = float(row['score'])
        assert f'static_R{size}/accuracy/top1: {score:.4f}' in (test.stdout +
                                                                test.stderr)

    # A second run resumes from the saved states and changes nothing.
    state = json.loads((work / 'search/flops0.8/state.json').read_text())
    assert state['state']['generation'] == 3
    again = run_tool(
        'tools/search.py', SEARCH, checkpoint, '--work-dir', work, env=env)
    assert 'resuming at generation 3/3' in again.stdout + again.stderr
    assert read_csv(work / 'search/results.csv') == rows

    # Other settings with the same work dir are refused by name.
    refused = run_tool(
        'tools/search.py',
        SEARCH,
        checkpoint,
        '--work-dir',
        work,
        '--cfg-options',
        'test_cfg.seed=5',
        env=env,
        check=False)
    assert refused.returncode != 0
    assert "seed: 0 -> 5" in refused.stderr


def test_nsga2_writes_a_front_within_the_limits(setup, searched):
    root, env, checkpoint = setup
    work, _ = searched  # beside the sweep's results.csv, for the plot
    result = run_tool(
        'tools/search.py', NSGA2, checkpoint, '--work-dir', work, env=env)
    log = result.stdout + result.stderr
    name = 'nsga2_flops_params_flops1.5'
    assert re.search(
        rf'search {name}: generation 3/3, front of \d+: score [\d.]+-[\d.]+'
        r', flops [\d.]+-[\d.]+, params [\d.]+-[\d.]+, hypervolume', log)
    folder = work / 'search' / name
    rows = read_csv(folder / 'front.csv')
    assert [int(r['member']) for r in rows] == list(range(len(rows)))
    flops = [float(r['flops']) for r in rows]
    assert flops == sorted(flops) and max(flops) <= 1.5
    # The members are mutually non-dominated in (score, flops, params).
    values = [(-float(r['score']), float(r['flops']), float(r['params']))
              for r in rows]
    for a in values:
        assert not any(
            all(x <= y for x, y in zip(b, a)) and b != a for b in values)
    # Every member has its YAML; at most max_exports=3 checkpoints, the
    # first and the last member among them, each within the limit by a
    # hook count and exactly as the table prices it.
    assert all((folder / 'members' / f'member_{i:03d}.yaml').is_file()
               for i in range(len(rows)))
    exported = [r for r in rows if r['checkpoint']]
    assert len(exported) == min(3, len(rows))
    assert exported[0] is rows[0] and exported[-1] is rows[-1]
    for row in exported:
        stem = row['checkpoint'][:-len('.pth')]
        static = init_model(stem + '_config.py', row['checkpoint'])
        size = int(row['resolution'])
        macs, params = count_macs_params(static, (1, 3, size, size))
        assert macs / 1e6 <= 1.5
        assert float(row['flops']) == pytest.approx(macs / 1e6)
        assert float(row['params']) == pytest.approx(params / 1e6)
    assert (folder / 'front_flops.png').stat().st_size > 1000
    # The sweep that ran in this work dir is drawn beside the front.
    assert f'front plot: {folder / "front_flops.png"} (with the constraint ' \
        f'sweep of {work / "search/results.csv"})' in log
    # A second run resumes and changes nothing.
    again = run_tool(
        'tools/search.py', NSGA2, checkpoint, '--work-dir', work, env=env)
    assert 'resuming at generation 3/3' in again.stdout + again.stderr
    assert read_csv(folder / 'front.csv') == rows


def test_nsga2_resumed_equals_uninterrupted(setup):
    """Stopped after 2 generations and continued to 4: the front of a
    search run to 4 at once."""
    root, env, checkpoint = setup
    fronts = []
    for work, steps in ((root / 'nsga2_whole', (4, )), (root / 'nsga2_parts',
                                                        (2, 4))):
        for generations in steps:
            run_tool(
                'tools/search.py',
                NSGA2,
                checkpoint,
                '--work-dir',
                work,
                '--cfg-options',
                f'test_cfg.generations={generations}',
                'test_cfg.export=False',
                env=env)
        rows = read_csv(work / 'search/nsga2_flops_params_flops1.5/front.csv')
        fronts.append([{
            k: v
            for k, v in r.items() if k != 'subnet'
        } for r in rows])
    assert fronts[0] == fronts[1]


def test_predictor_then_predictor_scored_search(setup):
    root, env, checkpoint = setup
    work = root / 'predictor'
    result = run_tool(
        'tools/search.py', PREDICTOR, checkpoint, '--work-dir', work, env=env)
    assert 'accuracy data set: subnets measured 12/12 (100 %)' in (
        result.stdout + result.stderr)
    dataset = json.loads((work / 'predictor/dataset.json').read_text())
    assert len(dataset['samples']) == 12
    assert len({json.dumps(s['subnet']) for s in dataset['samples']}) == 12
    predictor = work / 'predictor/predictor.pth'
    search = run_tool(
        'tools/search.py',
        SEARCH,
        checkpoint,
        '--work-dir',
        work,
        '--cfg-options',
        f'test_cfg.predictor.checkpoint={predictor}',
        'test_cfg.generations=20',
        'test_cfg.export=False',
        env=env)
    assert 'generation 20/20' in search.stdout + search.stderr
    rows = read_csv(work / 'search/results.csv')
    assert all(r['checkpoint'] == '' and r['subnet'].endswith('best.yaml')
               for r in rows)

    # Under a latency limit, priced by a table with its end-to-end
    # correction: parts timed as their parameter count, corrected to
    # 2 * count + 7 (a runtime that does twice the work end to end).
    model = init_model(SEARCH)
    table = build_latency_table(model, [32, 40], measure=count_parameters)
    table['correction'] = dict(kind='linear', scale=2.0, offset=7.0)
    save_latency_table(table, root / 'latency.json')
    limit = 2 * 120000 + 7
    config = root / 'search_latency.py'
    config.write_text(f"""_base_ = [{str(SEARCH)!r}]
test_cfg = dict(
    constraints=[dict(latency={limit})],
    latency_table=dict(file={str(root / 'latency.json')!r}, runtime='torch'),
    predictor=dict(checkpoint={str(predictor)!r}),
    generations=5,
    export=False)
""")
    run_tool('tools/search.py', config, checkpoint, '--work-dir',
             root / 'latency', env=env)
    row, = read_csv(root / 'latency/search/results.csv')
    assert row['constraint'] == f'latency{limit}'
    params = float(row['params']) * 1e6
    assert float(row['latency']) == pytest.approx(2 * params + 7, abs=1e-3)
    assert float(row['latency']) <= limit


def test_finetuning_starts_from_the_searched_accuracy(setup, searched):
    root, env, checkpoint = setup
    work, _ = searched
    row = read_csv(work / 'search/results.csv')[1]
    folder = work / 'search' / row['constraint']
    result = run_tool(
        'tools/train.py',
        FINETUNE,
        '--work-dir',
        root / 'finetune',
        '--cfg-options',
        f'model.subnet={folder / "best.yaml"}',
        f'load_from={folder / "best.pth"}',
        f'model.distillation.teacher.checkpoint={checkpoint}',
        env=env)
    log = result.stdout + result.stderr
    size = int(row['resolution'])
    metric = f'static_R{size}/accuracy/top1'
    # The validation before the first step: same weights, same BN.
    first = log.index(metric)
    assert log[first:].startswith(f'{metric}: {float(row["score"]):.4f}')
    assert 'loss_kd' in log  # distilled from the supernet's max subnet
    # The fine-tuned weights fit the exported subnet's own config.
    tuned = init_model(folder / 'best_config.py',
                       root / 'finetune' / 'epoch_1.pth')
    exported = init_model(folder / 'best_config.py', folder / 'best.pth')
    changed = [
        name for name, p in tuned.named_parameters()
        if not torch.equal(p,
                           dict(exported.named_parameters())[name])
    ]
    assert changed
