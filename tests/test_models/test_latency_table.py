import json

import numpy as np
import pytest
from helpers import W10_CONFIG, tiny_supernet_cfg

from mmofa.apis import init_model
from mmofa.models.task_modules import (SlotCostTable, build_latency_table,
                                       load_latency_table, save_latency_table)
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

        def time(self, module, inputs):
            return 5.0 + sum(p.numel() for p in module.parameters()), 0.0

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
