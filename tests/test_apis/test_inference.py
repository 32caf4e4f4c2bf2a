import pytest
import torch
import torch.nn as nn
from helpers import REFERENCE, W10_CONFIG, build_supernet

from mmofa.apis import init_model, save_subnet
from mmofa.models.algorithms import OFA
from mmofa.structures import SubnetError, read_subnet_file


@pytest.fixture(scope='module')
def model():
    return build_supernet(W10_CONFIG, seed=4)


def test_init_model_builds_eval_model_with_its_config():
    model = init_model(W10_CONFIG)
    assert isinstance(model, OFA) and not model.training
    assert model.cfg.model.type == 'mmofa.OFA'
    small = init_model(
        W10_CONFIG, cfg_options={'model.architecture.head.num_classes': 10})
    assert small(torch.randn(1, 3, 64, 64), mode='tensor').shape == (1, 10)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        init_model('configs/no_such_config.py')


def test_set_subnet_takes_all_three_forms(model, tmp_path):
    lat22 = REFERENCE / 'mmrazor_OFA_SUBNET_NOTE8_LAT22.yaml'
    from_mmrazor = model.set_subnet(lat22)
    from_path_string = model.set_subnet(str(lat22))
    arch = model.dump_subnet(fmt='arch_dict')
    from_arch = model.set_subnet(arch)
    mmofa_yaml = tmp_path / 'lat22.yaml'
    save = model.dump_subnet(fmt='mmofa')
    mmofa_yaml.write_text(str(save).replace("'", '"'))  # JSON-like YAML
    from_mmofa = model.set_subnet(mmofa_yaml)
    assert from_mmrazor == from_path_string == from_arch == from_mmofa
    assert model.current_subnet().resolution == 140
    logits = model(torch.randn(2, 3, 140, 140), mode='tensor')
    assert logits.shape == (2, 1000)
    with pytest.raises(
            SubnetError,
            match=r"'ks'\[0\] \(stage 0, block 0\) "
            r'= 9 is not allowed'):
        model.set_subnet(dict(ks=[9] * 20, e=3, d=2))


def test_export_subnet_returns_static_module(model):
    model.set_subnet(dict(ks=5, e=4, d=3))
    static = model.export_subnet()
    assert isinstance(static, nn.Module) and not static.training
    assert type(static.backbone).__name__ == 'StaticMobileNetV3'
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        assert (static(x) - model(x)).abs().max() <= 1e-5


def test_save_subnet_files_rebuild_the_static_model(model, tmp_path):
    model.set_subnet(REFERENCE / 'mmrazor_OFA_SUBNET_NOTE8_LAT31.yaml')
    paths = save_subnet(model, tmp_path / 'export' / 'lat31.pth')
    assert sorted(p.name for p in (tmp_path / 'export').iterdir()) == [
        'lat31.pth', 'lat31.yaml', 'lat31_config.py'
    ]
    assert model.backbone.parse_subnet(read_subnet_file(
        paths['subnet'])) == model.current_subnet()
    static = init_model(paths['config'], paths['checkpoint'])
    x = torch.randn(2, 3, 152, 152)
    with torch.no_grad():
        assert (static(x) - model(x)).abs().max() <= 1e-5
    checkpoint = torch.load(paths['checkpoint'], weights_only=True)
    assert checkpoint['meta']['subnet']['resolution'] == 152


def test_supernet_checkpoint_round_trip(model, tmp_path):
    path = tmp_path / 'supernet.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 3}}, path)
    loaded = init_model(W10_CONFIG, path)
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
    # A DistributedDataParallel prefix is accepted.
    torch.save({f'module.{k}': v for k, v in model.state_dict().items()}, path)
    init_model(W10_CONFIG, path)
