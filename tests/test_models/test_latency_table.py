import json

import numpy as np
import pytest
from helpers import W10_CONFIG, tiny_supernet_cfg

from mmofa.apis import init_model
from mmofa.models.task_modules import (LatencyRuntime, SlotCostTable,
                                       build_latency_table, load_latency_table,
                                       save_latency_table, time_subnets)
from mmofa.models.task_modules.estimators.runtimes import LogitsOf
from mmofa.structures import MobileNetV3PopulationCodec


def count_parameters(module, inputs):
    """A deterministic stand-in for a timer: the layer's parameters, which
    add up over a network exactly as latencies are assumed to."""
    assert inputs.shape[0] == 1
    return sum(p.numel() for p in module.parameters())


def test_table_sums_layers_of_the_exported_network(tmp_path):
    model = init_model(dict(model=tiny_supernet_cfg()))
    calls = []
    table = build_latency_table(
        model, [32, 40],
        measure=count_parameters,
        progress=lambda done, total: calls.append((done, total)))
    assert calls[-1][0] == calls[-1][1]  # the progress reaches its total
    path = save_latency_table(table, tmp_path / 'table.json')
    codec = MobileNetV3PopulationCodec(model.search_space, [40, 32])
    latency = load_latency_table(path, model, codec)
    population = codec.random(12, np.random.default_rng(0))
    for i, subnet in enumerate(codec.to_subnets(population)):
        model.set_subnet(subnet)
        static = model.export_subnet()
        expected = sum(p.numel() for p in static.parameters())
        assert latency(population[i])[0] == expected


def test_table_of_another_space_or_size_is_refused(tmp_path):
    model = init_model(dict(model=tiny_supernet_cfg()))
    path = save_latency_table(
        build_latency_table(model, [32], measure=count_parameters),
        tmp_path / 'table.json')
    with pytest.raises(ValueError, match=r'no latencies at resolutions \[40'):
        load_latency_table(
            path, model, MobileNetV3PopulationCodec(model.search_space, [40]))
    other = init_model(W10_CONFIG)
    with pytest.raises(
            ValueError,
            match=r"another supernet: \['num_classes'"
            r", 'space'\] differ"):
        load_latency_table(
            path, other, MobileNetV3PopulationCodec(other.search_space, [32]))
    (tmp_path / 'bad.json').write_text(json.dumps({'fixed': []}))
    with pytest.raises(ValueError, match='not an mmofa latency lookup table'):
        load_latency_table(
            tmp_path / 'bad.json', model,
            MobileNetV3PopulationCodec(model.search_space, [32]))


def test_latency_table_fit_names_each_limit_it_breaks():
    from mmofa.models.task_modules.estimators import latency_table_fit
    measured = [1.0, 2.0, 3.0, 4.0]
    good = latency_table_fit([1.1, 2.1, 2.9, 4.2], measured)
    assert good['predicts'] and good['why'] == ''
    assert good['kendall_tau'] == pytest.approx(1.0)
    assert good['mape'] == pytest.approx((10 + 5 + 10 / 3 + 5) / 4)
    # Ranked right, priced twice over: only the error is off.
    doubled = latency_table_fit([2 * m for m in measured], measured)
    assert not doubled['predicts']
    assert doubled['why'] == 'mean absolute percentage error 100.0 % > 25.0 %'
    # Close in size, ranked backwards: only the ranking is off.
    reversed_ = latency_table_fit([2.6, 2.55, 2.5, 2.45], [2.4, 2.5, 2.6, 2.7])
    assert not reversed_['predicts']
    assert reversed_['why'] == 'Kendall tau -1.000 < 0.6'


def test_onnxruntime_table_times_each_part_in_onnxruntime(tmp_path):
    """Every part of the table runs in ONNX Runtime (its outputs equal
    torch's); the table sums the exported network's parts; the file
    records the runtime, and loading it for another runtime or batch size
    is refused by name."""
    import torch

    from mmofa.models.task_modules import build_runtime
    runtime = build_runtime('onnxruntime', threads=1, warmup=1, repeats=3)
    model = init_model(dict(model=tiny_supernet_cfg()))
    checked = []

    def run_in_onnxruntime(module, inputs):
        session = runtime.session(module, inputs)
        outputs = session.run(None, {'input': inputs.numpy()})[0]
        with torch.no_grad():
            expected = module.eval()(inputs).numpy()
        assert np.allclose(outputs, expected, atol=1e-4)
        checked.append(runtime.time(module, inputs))
        return count_parameters(module, inputs)

    table = build_latency_table(
        model, [32], measure=run_in_onnxruntime, runtime=runtime)
    assert checked and all(ms > 0 and spread >= 0 for ms, spread in checked)
    assert table['runtime']['name'] == 'onnxruntime'
    assert table['runtime']['version'].startswith('onnxruntime ')
    assert 'CPUExecutionProvider' in table['runtime']['version']
    assert table['runtime']['threads'] == 1
    path = save_latency_table(table, tmp_path / 'ort.json')
    codec = MobileNetV3PopulationCodec(model.search_space, [32])
    latency = load_latency_table(path, model, codec, 'onnxruntime', 1)
    population = codec.random(4, np.random.default_rng(0))
    for i, subnet in enumerate(codec.to_subnets(population)):
        model.set_subnet(subnet)
        expected = sum(p.numel() for p in model.export_subnet().parameters())
        assert latency(population[i])[0] == expected
    with pytest.raises(
            ValueError,
            match=r'ort.json was measured in onnxruntime \(onnxruntime '
            r'[\d.]+ \(CPUExecutionProvider\)\), not in torch'):
        load_latency_table(path, model, codec, 'torch')
    with pytest.raises(
            ValueError, match='measured at batch size 1, not 8: latencies'):
        load_latency_table(path, model, codec, 'onnxruntime', 8)


def test_runtimes_this_machine_lacks_are_named():
    import torch

    from mmofa.models.task_modules import build_runtime
    with pytest.raises(ValueError, match=r"runtime 'tvm'; allowed: \['torch'"):
        build_runtime('tvm')
    with pytest.raises(ValueError, match='--runtime tensorrt runs on GPUs'):
        build_runtime('tensorrt', device='cpu')
    if not torch.cuda.is_available():
        with pytest.raises(
                RuntimeError, match='this machine has no usable '
                'GPU'):
            build_runtime('onnxruntime', device='cuda')
        with pytest.raises(RuntimeError, match='no usable GPU'):
            build_runtime('tensorrt', device='cuda')


def test_a_call_overhead_is_counted_once_per_network():
    """A runtime whose every call costs 5 on top of the work (the binding
    and dispatch of a session run): the table subtracts it from each part
    and counts it once, so a subnet's estimate is its work plus one call."""
    from mmofa.models.task_modules import LatencyRuntime

    class CountingRuntime(LatencyRuntime):
        name = 'counting'

        def version(self):
            return 'counting 1'

        def prepare(self, module, inputs):
            return lambda: 5.0 + sum(p.numel() for p in module.parameters())

        def time_runnables(self, runnables):
            return [(run(), 0.0) for run in runnables]

    model = init_model(dict(model=tiny_supernet_cfg()))
    table = build_latency_table(model, [32], runtime=CountingRuntime())
    overheads = table['runtime']['call_overhead_ms']
    assert '1x3x32x32' in overheads and set(overheads.values()) == {5.0}
    codec = MobileNetV3PopulationCodec(model.search_space, [32])
    latency = SlotCostTable(codec, np.asarray(table['fixed']),
                            np.asarray(table['entries']), 'latency')
    population = codec.random(3, np.random.default_rng(1))
    for i, subnet in enumerate(codec.to_subnets(population)):
        model.set_subnet(subnet)
        work = sum(p.numel() for p in model.export_subnet().parameters())
        assert latency(population[i])[0] == 5.0 + work


def test_parts_are_timed_interleaved_in_groups():
    """Each round runs every prepared module once, in turn; modules are
    prepared and timed in groups of at most ``group_bytes`` of
    parameters, one group after the other."""
    import torch

    from mmofa.models.task_modules import LatencyRuntime
    events = []

    class Numbered(torch.nn.Linear):

        def __init__(self, number):
            super().__init__(4, 4)  # 20 parameters, 80 bytes
            self.number = number

    class RecordingRuntime(LatencyRuntime):
        name = 'recording'

        def version(self):
            return 'recording 1'

        def prepare(self, module, inputs):
            assert inputs.shape == (1, 4)
            events.append(('prepare', module.number))
            return lambda: events.append(('run', module.number))

    runtime = RecordingRuntime(warmup=1, repeats=2)
    done = []
    results = runtime.time_modules(
        [(lambda n=n: Numbered(n), (1, 4)) for n in range(5)],
        progress=done.append,
        group_bytes=160)
    assert len(results) == 5
    assert all(ms >= 0 and spread >= 0 for ms, spread in results)
    assert done == [2, 2, 1]

    def group(*numbers):
        runs = [('run', n) for n in numbers] * 3  # a warm-up, two rounds
        return [('prepare', n) for n in numbers] + runs

    assert events == group(0, 1) + group(2, 3) + group(4)


class ScaledNetworkRuntime(LatencyRuntime):
    """A deterministic runtime: a part costs its parameters, a whole
    exported network twice its parameters plus 7, as if the runtime did
    something across blocks that the parts do not show."""
    name = 'scaled'

    def version(self):
        return 'scaled 1'

    def prepare(self, module, inputs):
        work = sum(p.numel() for p in module.parameters())
        cost = 2 * work + 7 if isinstance(module, LogitsOf) else work
        return lambda: float(cost)

    def time_runnables(self, runnables):
        return [(run(), 0.0) for run in runnables]


def test_a_calibrated_table_predicts_end_to_end_timings(tmp_path):
    """The correction fitted on end-to-end timings (2x + 7 here) is stored
    with the table and applied where it is loaded, exactly; the raw
    table is still the sum of the parts."""
    runtime = ScaledNetworkRuntime()
    model = init_model(dict(model=tiny_supernet_cfg()))
    table = build_latency_table(
        model, [32, 40], runtime=runtime, calibrate=6, seed=3)
    correction = table['correction']
    assert correction['kind'] == 'linear' and correction['subnets'] == 6
    assert correction['seed'] == 3
    assert correction['scale'] == pytest.approx(2.0)
    assert correction['offset'] == pytest.approx(7.0)
    assert correction['fit_before']['mape'] > 40
    assert correction['fit_after']['mape'] == pytest.approx(0, abs=1e-6)
    path = save_latency_table(table, tmp_path / 'calibrated.json')
    codec = MobileNetV3PopulationCodec(model.search_space, [40, 32])
    corrected = load_latency_table(path, model, codec, 'scaled', 1)
    raw = load_latency_table(path, model, codec, corrected=False)
    population = codec.random(8, np.random.default_rng(0))
    measured = time_subnets(model, runtime, codec.to_subnets(population))
    for i, subnet in enumerate(codec.to_subnets(population)):
        model.set_subnet(subnet)
        work = sum(p.numel() for p in model.export_subnet().parameters())
        assert measured[i] == 2 * work + 7
        assert raw(population[i])[0] == work
        assert corrected(population[i])[0] == pytest.approx(2 * work + 7)


def test_a_correction_falls_back_to_the_median_ratio():
    from mmofa.models.task_modules import fit_latency_correction
    line = fit_latency_correction([1.0, 2.0, 3.0], [2.5, 4.5, 6.5])
    assert line['kind'] == 'linear'
    assert (line['scale'], line['offset']) == pytest.approx((2.0, 0.5))
    # Falling, undetermined, or negative for a table's smallest estimate
    # (1.5 here: 2 * 1.5 - 3.5 < 0): the median ratio, no offset.
    for estimates, measured, least in (
        ([1.0, 2.0, 3.0], [3.0, 2.0, 1.5], 0.0),
        ([2.0, 2.0, 2.0], [3.0, 4.0, 5.0], 0.0),
        ([2.0, 3.0, 4.0], [0.5, 2.5, 4.5], 1.5),
    ):
        fit = fit_latency_correction(estimates, measured, least)
        assert fit['kind'] == 'scale' and fit['offset'] == 0.0
        assert fit['scale'] == pytest.approx(
            np.median(np.divide(measured, estimates)))
    model = init_model(dict(model=tiny_supernet_cfg()))
    with pytest.raises(ValueError, match='calibrate = 1: 0 .* or at least 2'):
        build_latency_table(
            model, [32], measure=count_parameters, calibrate=1)


@pytest.mark.parametrize('name', ['torch', 'onnxruntime'])
def test_a_table_measured_in_each_cpu_runtime(name, tmp_path):
    """Timed for real in the runtime (no stand-in timer): every part that
    occurs is priced, every input shape's call overhead is recorded, the
    correction is fitted on subnets timed end to end there, and the file
    loads for that runtime only."""
    from mmofa.models.task_modules import build_runtime
    runtime = build_runtime(name, threads=1, warmup=1, repeats=3)
    model = init_model(dict(model=tiny_supernet_cfg()))
    done = []
    table = build_latency_table(
        model, [32, 40],
        runtime=runtime,
        calibrate=3,
        progress=lambda n, total: done.append((n, total)))
    assert done[-1][0] == done[-1][1]
    assert table['runtime']['name'] == name
    assert table['runtime']['threads'] == 1
    assert '1x3x32x32' in table['runtime']['call_overhead_ms']
    codec = MobileNetV3PopulationCodec(model.search_space, [32, 40])
    entries = np.asarray(table['entries'])
    for slot, size in enumerate(codec.slot_sizes):
        assert (entries[:, slot, :size] >= 0).all()
        assert (entries[:, slot, :size] > 0).any()
    assert all(ms > 0 for ms in table['fixed'])
    correction = table['correction']
    assert correction['subnets'] == 3 and correction['scale'] > 0
    path = save_latency_table(table, tmp_path / f'{name}.json')
    latency = load_latency_table(path, model, codec, name, 1)
    population = codec.random(5, np.random.default_rng(0))
    assert (np.asarray(latency(population)) > 0).all()
