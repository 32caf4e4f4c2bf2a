import json

import numpy as np
import pytest
from helpers import W10_CONFIG, tiny_supernet_cfg

from mmofa.apis import init_model
from mmofa.models.task_modules import (build_latency_table, load_latency_table,
                                       save_latency_table)
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
