"""Files MMRazor 1.0 wrote in its own environment (tests/data/mmrazor, made
by tools/mmrazor/make_fixtures.py) opened by mmofa under torch 2 and numpy
2, with the logits MMRazor computed; files mmofa writes for MMRazor in
MMRazor's layout (tools/mmrazor/check_mmofa_files.py loads them in
MMRazor itself)."""

import pytest
import torch
import yaml
from helpers import REPO, run_tool

from mmofa.apis import init_model, save_subnet_for_mmrazor
from mmofa.apis.convert import ConversionError, convert_ofa_checkpoint
from mmofa.structures import SubnetError

DATA = REPO / 'tests/data/mmrazor'
CONFIG = str(REPO / 'tests/configs/mmrazor_tiny.py')
TOLERANCE = 1e-5


@pytest.fixture(scope='module')
def reference():
    return torch.load(DATA / 'logits.pth', weights_only=True)


def logits(net, reference, size):
    images = reference['images'][size]
    with torch.no_grad():
        return net((images.float() - 128) / 64, mode='tensor')


def assert_logits_equal(net, reference, name, size):
    error = (logits(net, reference, size) -
             reference['logits'][name]).abs().max().item()
    assert error <= TOLERANCE, (name, error)


def set_named_subnet(model, name):
    """max, min, or the subnet of MMRazor's subnet_<name>.yaml; its size."""
    if name in ('max', 'min'):
        model.mutator.set_choices(model.mutator.sample_choices(name))
        return 128
    subnet = model.backbone.parse_subnet(DATA / f'subnet_{name}.yaml')
    model.set_subnet(subnet)
    return subnet.resolution


@pytest.mark.parametrize('file, tag', [('supernet_state_dict.pth', 'supernet'),
                                       ('runner_checkpoint.pth', 'runner')])
def test_mmrazor_supernets_load_with_mmrazors_logits(reference, file, tag):
    """A state dict with the channel masks and a runner checkpoint
    (numpy 1.x pickles, message hub, optimizer) load strictly; every subnet
    MMRazor evaluated gives its logits, the YAML subnets included."""
    model = init_model(CONFIG, DATA / file)
    names = [
        n.split('/')[1] for n in reference['logits'] if n.startswith(f'{tag}/')
    ]
    assert names
    for name in names:
        size = set_named_subnet(model, name)
        assert_logits_equal(model.architecture, reference, f'{tag}/{name}',
                            size)


def test_converter_takes_a_runner_checkpoint(tmp_path, reference):
    out = tmp_path / 'supernet.pth'
    result = convert_ofa_checkpoint(DATA / 'runner_checkpoint.pth', out,
                                    lambda width: CONFIG)
    assert result['kind'] == 'mmrazor_mbv3'
    model = init_model(CONFIG, out)
    set_named_subnet(model, 'max')
    assert_logits_equal(model.architecture, reference, 'runner/max', 128)


@pytest.mark.parametrize('name', ['a', 'b'])
def test_static_subnet_checkpoints_convert_with_their_yaml(
        tmp_path, reference, name):
    """Both key layouts (a: architecture.backbone..., b: backbone...)."""
    out = tmp_path / f'static_{name}.pth'
    result = convert_ofa_checkpoint(
        DATA / f'static_subnet_{name}.pth',
        out,
        lambda width: CONFIG,
        subnet=DATA / f'subnet_{name}.yaml')
    assert result['kind'] == 'mmrazor_subnet'
    static = init_model(result['paths']['config'], out)
    assert_logits_equal(static, reference, f'static/{name}',
                        reference['resolutions'][name])


def test_static_subnet_refusals_name_the_entry_and_write_nothing(tmp_path):
    out = tmp_path / 'static.pth'
    with pytest.raises(
            ConversionError,
            match='give the subnet YAML that '
            'defines it with --subnet; nothing was written'):
        convert_ofa_checkpoint(DATA / 'static_subnet_a.pth', out,
                               lambda width: CONFIG)
    with pytest.raises(ConversionError) as error:
        convert_ofa_checkpoint(
            DATA / 'static_subnet_a.pth',
            out,
            lambda width: CONFIG,
            subnet=DATA / 'subnet_b.yaml')
    message = str(error.value)
    assert 'static_subnet_a.pth does not hold the subnet of' in message
    assert 'subnet entry backbone.layers.2.0.expand_ratio: ' in message
    assert 'checkpoint (48,) vs subnet (24,)' in message
    assert message.endswith('nothing was written')
    with pytest.raises(
            ConversionError,
            match='--subnet .* applies to an '
            'MMRazor static subnet checkpoint'):
        convert_ofa_checkpoint(
            DATA / 'supernet_state_dict.pth',
            out,
            lambda width: CONFIG,
            subnet=DATA / 'subnet_a.yaml')
    assert list(tmp_path.iterdir()) == []


def test_the_tool_converts_a_static_subnet(tmp_path, reference):
    out = tmp_path / 'lat.pth'
    result = run_tool('tools/convert_ofa_ckpt.py',
                      DATA / 'static_subnet_b.pth', out, '--subnet',
                      DATA / 'subnet_b.yaml', '--config', CONFIG)
    assert '(mmrazor_subnet)' in result.stdout
    static = init_model(tmp_path / 'lat_config.py', out)
    assert_logits_equal(static, reference, 'static/b', 128)


def test_export_for_mmrazor_writes_its_layout(tmp_path):
    """mmofa's export of subnet a from MMRazor's supernet holds the keys,
    shapes and values of the static model MMRazor sliced itself, with the
    masks and the prefix its subnet config loads strictly; the YAML is
    MMRazor's subnet, input_shape included."""
    model = init_model(CONFIG, DATA / 'supernet_state_dict.pth')
    set_named_subnet(model, 'a')
    paths = save_subnet_for_mmrazor(model, tmp_path / 'a.pth')
    written = torch.load(paths['checkpoint'], weights_only=True)['state_dict']
    mmrazor = torch.load(
        DATA / 'static_subnet_a.pth', weights_only=True)['state_dict']
    assert sorted(written) == sorted(mmrazor)
    for key, value in mmrazor.items():
        assert written[key].shape == value.shape, key
        torch.testing.assert_close(
            written[key].float(), value.float(), atol=1e-6, rtol=0)
    aliases = yaml.safe_load(paths['subnet'].read_text())
    assert aliases['input_shape'] == {'chosen': [140, 140]}
    assert model.backbone.parse_subnet(paths['subnet']) == \
        model.backbone.parse_subnet(DATA / 'subnet_a.yaml')


def test_mmrazor_yaml_always_has_a_size_mmrazor_takes(tmp_path):
    model = init_model(CONFIG)
    subnet = model.backbone.parse_subnet(DATA / 'subnet_b.yaml')
    model.set_subnet(subnet.with_resolution(None))
    assert model.dump_subnet(fmt='mmrazor')['input_shape'] == {
        'chosen': [224, 224]
    }
    model.set_subnet(subnet.with_resolution(140))
    assert model.dump_subnet(fmt='mmrazor')['input_shape'] == {
        'chosen': [140, 140]
    }
    model.resolution = 160
    with pytest.raises(
            SubnetError,
            match=r'resolution 160 cannot be written '
            r'for MMRazor: .* takes \[128, 140, 144, 152, 192, '
            r'204, 224, 256\]'):
        save_subnet_for_mmrazor(model, tmp_path / 'x.pth')
    assert list(tmp_path.iterdir()) == []


def test_publish_for_mmrazor_gives_its_supernet_layout(tmp_path):
    """A training checkpoint published --format mmrazor has exactly the
    keys and shapes of MMRazor's supernet state dict (masks included)."""
    model = init_model(CONFIG, DATA / 'supernet_state_dict.pth')
    src = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), src)
    run_tool('tools/publish_checkpoint.py', src, tmp_path / 'pub.pth',
             '--no-hash', '--format', 'mmrazor')
    written = torch.load(tmp_path / 'pub.pth', weights_only=True)
    mmrazor = torch.load(DATA / 'supernet_state_dict.pth', weights_only=True)
    assert {k: tuple(v.shape) for k, v in written['state_dict'].items()} == \
        {k: tuple(v.shape) for k, v in mmrazor.items()}
    for key, value in mmrazor.items():
        assert torch.equal(written['state_dict'][key], value), key
