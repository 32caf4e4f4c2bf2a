import numpy as np
import pytest
import torch
from helpers import RESNET50_CONFIG, W10_CONFIG, tiny_supernet_cfg

from mmofa.apis import init_model
from mmofa.models.task_modules import (MLPAccuracyPredictor, SlotCostTable,
                                       count_macs_params, load_predictor)
from mmofa.structures import MobileNetV3PopulationCodec, SubnetError

RESOLUTIONS = list(range(128, 225, 4))


@pytest.fixture(scope='module')
def supernet():
    return init_model(W10_CONFIG)


@pytest.fixture(scope='module')
def codec(supernet):
    return MobileNetV3PopulationCodec(supernet.search_space, RESOLUTIONS)


def test_encoding_is_the_official_one(supernet, codec):
    from ofa.nas.accuracy_predictor import MobileNetArchEncoder
    official = MobileNetArchEncoder(
        image_size_list=RESOLUTIONS,
        ks_list=[3, 5, 7],
        expand_list=[3, 4, 6],
        depth_list=[2, 3, 4])
    assert codec.encoding_size == official.n_dim == 25 + 60 + 60
    population = codec.random(100, np.random.default_rng(0))
    features = codec.encode(population)
    for row, subnet in zip(features, codec.to_subnets(population)):
        arch = supernet.dump_subnet(subnet, 'arch_dict')
        assert np.array_equal(row, official.arch2feature(arch))
        assert official.feature2arch(row)['d'] == list(subnet.depth)


def test_round_trip_and_candidates(supernet, codec):
    rng = np.random.default_rng(1)
    population = codec.random(50, rng)
    population = codec.crossover(
        codec.mutate(population, rng, 0.5, 0.5), population, rng)
    subnets = codec.to_subnets(population)
    for subnet in subnets:  # every value is a candidate of the space
        assert subnet.checked(supernet.search_space) == subnet
        assert subnet.resolution in RESOLUTIONS
    again = codec.from_subnets(subnets)
    assert codec.to_subnets(again) == subnets
    assert np.array_equal(codec.encode(again), codec.encode(population))
    keys = codec.unique_keys(again)
    assert len(set(keys)) == len(set(subnets))
    with pytest.raises(SubnetError, match=r'resolution 100 .* allowed'):
        codec.from_subnets([subnets[0].with_resolution(100)])


def test_mutation_and_crossover_rates(codec):
    rng = np.random.default_rng(2)
    parents = codec.random(4000, rng)
    mutants = codec.mutate(parents, rng, arch_prob=0.1, resolution_prob=0.5)
    # A redrawn gene keeps its value with probability 1/3 (3 candidates);
    # a redrawn resolution with 1/25.
    changed = (mutants.kernel != parents.kernel).mean()
    assert abs(changed - 0.1 * 2 / 3) < 0.01
    assert abs((mutants.resolution != parents.resolution).mean() -
               0.5 * 24 / 25) < 0.03
    other = codec.random(4000, rng)
    child = codec.crossover(parents, other, rng)
    assert np.all((child.depth == parents.depth)
                  | (child.depth == other.depth))
    assert abs((child.kernel == parents.kernel).mean() - (0.5 + 0.5 / 3)) < \
        0.01


def test_cost_tables_equal_the_estimator_and_a_direct_count(supernet, codec):
    estimator = supernet.resource_estimator
    flops = SlotCostTable.flops(estimator, codec)
    params = SlotCostTable.params(estimator, codec)
    population = codec.random(40, np.random.default_rng(3))
    for i, subnet in enumerate(codec.to_subnets(population)):
        cost = supernet.estimate_resources(subnet)
        assert flops(population[i])[0] == pytest.approx(
            cost['macs'] / 1e6, abs=1e-9)
        assert params(population[i])[0] == pytest.approx(
            cost['params'] / 1e6, abs=1e-12)
    for i in range(3):  # hook-based count of the exported static model
        subnet = codec.to_subnets(population[i])[0]
        supernet.set_subnet(subnet)
        size = subnet.resolution
        macs, n_params = count_macs_params(supernet.export_subnet(),
                                           (1, 3, size, size))
        assert flops(population[i])[0] == pytest.approx(macs / 1e6)
        assert params(population[i])[0] == pytest.approx(n_params / 1e6)


def test_predictor_matches_official_and_round_trips(codec, tmp_path):
    from ofa.nas.accuracy_predictor import (AccuracyPredictor,
                                            MobileNetArchEncoder)
    torch.manual_seed(0)
    official = AccuracyPredictor(
        MobileNetArchEncoder(image_size_list=RESOLUTIONS), device='cpu')
    official.base_acc.data.fill_(0.7)
    path = tmp_path / 'official_predictor.pth'
    torch.save(official.state_dict(), path)
    ours = load_predictor(path, codec.encoding_size)
    population = codec.random(30, np.random.default_rng(4))
    features = codec.encode(population)
    with torch.no_grad():
        expected = official(torch.from_numpy(features)).numpy()
    assert np.allclose(ours.predict(features), expected, atol=1e-6)
    # mmofa's format ({'state_dict': ...}) round trips exactly.
    torch.save({'state_dict': ours.state_dict()}, tmp_path / 'ours.pth')
    again = load_predictor(tmp_path / 'ours.pth', codec.encoding_size)
    assert np.array_equal(again.predict(features), ours.predict(features))
    with pytest.raises(ValueError, match='codes of size 145.*give 61'):
        load_predictor(path, 61)


def test_predictor_training_lowers_held_out_error(codec):
    rng = np.random.default_rng(5)
    population = codec.random(600, rng)
    features = codec.encode(population)
    # A synthetic accuracy: additive in the genes plus a little noise.
    weights = rng.normal(0, 0.01, codec.encoding_size)
    target = 0.7 + features @ weights + rng.normal(0, 0.002, len(features))
    predictor = MLPAccuracyPredictor(codec.encoding_size, hidden_size=64)
    before, after = predictor.fit(
        features, target, epochs=60, lr=3e-3, log_interval=0)
    assert after < 0.5 * before, (before, after)


def test_tiny_space_costs_and_sizes():
    model = init_model(dict(model=tiny_supernet_cfg()))
    codec = MobileNetV3PopulationCodec(model.search_space, [32, 40])
    table = SlotCostTable.flops(model.resource_estimator, codec)
    population = codec.random(10, np.random.default_rng(6))
    for i, subnet in enumerate(codec.to_subnets(population)):
        assert table(population[i])[0] == pytest.approx(
            model.estimate_resources(subnet)['macs'] / 1e6)


def test_resnet50_encoding_is_the_official_one():
    """The OFA ResNet50 codec's features equal the official
    ``ResNetArchEncoder.arch2feature`` bit for bit, and its
    ``feature2arch`` reads our features back (stem, depths, widths)."""
    from ofa.nas.accuracy_predictor import ResNetArchEncoder
    model = init_model(RESNET50_CONFIG)
    sizes = [160, 176, 192, 208, 224]
    codec = model.backbone.population_codec(sizes)
    official = ResNetArchEncoder(image_size_list=sizes)
    assert codec.encoding_size == official.n_dim == 5 + 2 + 18 + 54
    population = codec.random(100, np.random.default_rng(0))
    features = codec.encode(population)
    for row, subnet in zip(features, codec.to_subnets(population)):
        arch = model.dump_subnet(subnet, 'arch_dict')
        assert np.array_equal(row, official.arch2feature(arch))
        back = official.feature2arch(row)
        assert back['d'][0] == subnet.depth[0]
        assert back['w'] == arch['w'] and back['image_size'] == arch[
            'image_size']
