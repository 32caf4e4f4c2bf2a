import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmofa.models.architectures.static import SqueezeExcitation
from mmofa.models.dynamic_ops import (ElasticBatchNorm2d, ElasticConv2d,
                                      ElasticDepthwiseConv2d, ElasticLinear,
                                      ElasticSqueezeExcitation)


def test_elastic_conv_slices_prefix_without_copy():
    conv = ElasticConv2d(8, 16, kernel_size=3, stride=2, bias=True)
    x = torch.randn(2, 5, 9, 9)
    y = conv(x, out_channels=6)

    weight, bias = conv.active_weight(5, 6)
    assert weight.data_ptr() == conv.weight.data_ptr()  # a view
    assert weight.shape == (6, 5, 3, 3) and bias.shape == (6, )
    reference = F.conv2d(x, conv.weight[:6, :5], conv.bias[:6], 2, 1)
    assert y.shape == (2, 6, 5, 5)
    assert torch.equal(y, reference)
    # Full width gives the plain convolution.
    full = torch.randn(2, 8, 9, 9)
    assert torch.equal(
        conv(full), F.conv2d(full, conv.weight, conv.bias, 2, 1))


def test_elastic_conv_rejects_too_many_channels():
    conv = ElasticConv2d(4, 8)
    with pytest.raises(ValueError, match='at most 4 input and 8 output'):
        conv(torch.randn(1, 5, 3, 3))
    with pytest.raises(ValueError, match='asked for 4 -> 9'):
        conv(torch.randn(1, 4, 3, 3), out_channels=9)


def test_elastic_conv_active_state_dict_is_a_copy():
    conv = ElasticConv2d(4, 8, bias=True)
    state = conv.active_state_dict(in_channels=3, out_channels=5)
    assert state['weight'].shape == (5, 3, 1, 1)
    assert state['bias'].shape == (5, )
    state['weight'].zero_()
    assert conv.weight.abs().sum() > 0


def _manual_transform(weight, matrices, kernel_size):
    """7x7 -> 5x5 -> 3x3 by centre crop + matrix, written out by hand."""
    channels = weight.shape[0]
    if kernel_size <= 5:
        w5 = weight[:, :, 1:6, 1:6].reshape(channels, 25) @ matrices[0].t()
        weight = w5.reshape(channels, 1, 5, 5)
    if kernel_size == 3:
        w3 = weight[:, :, 1:4, 1:4].reshape(channels, 9) @ matrices[1].t()
        weight = w3.reshape(channels, 1, 3, 3)
    return weight


@pytest.mark.parametrize('kernel_size', [3, 5, 7])
def test_depthwise_kernel_transform(kernel_size):
    torch.manual_seed(0)
    conv = ElasticDepthwiseConv2d(12, [3, 5, 7], stride=2)
    assert conv.trans_matrix_7to5.shape == (25, 25)
    assert conv.trans_matrix_5to3.shape == (9, 9)
    assert torch.equal(conv.trans_matrix_7to5, torch.eye(25))
    with torch.no_grad():
        conv.trans_matrix_7to5.add_(torch.randn(25, 25) * 0.1)
        conv.trans_matrix_5to3.add_(torch.randn(9, 9) * 0.1)
    x = torch.randn(2, 10, 15, 15)
    y = conv(x, kernel_size=kernel_size)

    weight = _manual_transform(conv.weight[:10].detach(),
                               (conv.trans_matrix_7to5.detach(),
                                conv.trans_matrix_5to3.detach()), kernel_size)
    reference = F.conv2d(x, weight, None, 2, kernel_size // 2, 1, 10)
    assert y.shape == (2, 10, 8, 8)
    torch.testing.assert_close(y, reference, rtol=1e-5, atol=1e-6)


def test_depthwise_without_transform_is_centre_crop():
    conv = ElasticDepthwiseConv2d(4, [3, 5, 7], transform_kernel=False)
    assert not [n for n, _ in conv.named_parameters() if 'matrix' in n]
    weight = conv.active_weight(4, 3)
    assert torch.equal(weight, conv.weight[:, :, 2:5, 2:5])


def test_depthwise_rejects_unknown_kernel():
    conv = ElasticDepthwiseConv2d(4, [3, 5, 7])
    with pytest.raises(
            ValueError, match=r'kernel size 9 is not one of '
            r'\[3, 5, 7\]'):
        conv(torch.randn(1, 4, 8, 8), kernel_size=9)
    with pytest.raises(ValueError, match='must be odd'):
        ElasticDepthwiseConv2d(4, [3, 4])


def test_elastic_bn_updates_only_the_active_slice():
    bn = ElasticBatchNorm2d(8, momentum=0.1)
    with torch.no_grad():
        bn.running_mean.copy_(torch.arange(8.))
        bn.running_var.fill_(2.0)
    before_mean = bn.running_mean.clone()
    x = torch.randn(4, 5, 6, 6) * 3 + 1
    bn.train()
    y = bn(x)

    reference = nn.BatchNorm2d(5, momentum=0.1)
    with torch.no_grad():
        reference.weight.copy_(bn.weight[:5])
        reference.bias.copy_(bn.bias[:5])
        reference.running_mean.copy_(before_mean[:5])
        reference.running_var.fill_(2.0)
    reference.train()
    torch.testing.assert_close(y, reference(x))
    torch.testing.assert_close(bn.running_mean[:5], reference.running_mean)
    torch.testing.assert_close(bn.running_var[:5], reference.running_var)
    assert torch.equal(bn.running_mean[5:], before_mean[5:])
    assert torch.equal(bn.running_var[5:], torch.full((3, ), 2.0))
    assert bn.num_batches_tracked.item() == 1


def test_elastic_bn_eval_uses_sliced_statistics():
    bn = ElasticBatchNorm2d(6).eval()
    with torch.no_grad():
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2)
        bn.weight.normal_()
        bn.bias.normal_()
    x = torch.randn(2, 4, 3, 3)
    expected = F.batch_norm(x, bn.running_mean[:4], bn.running_var[:4],
                            bn.weight[:4], bn.bias[:4], False, 0.0, bn.eps)
    assert torch.equal(bn(x), expected)
    state = bn.active_state_dict(4)
    assert {
        k: tuple(v.shape)
        for k, v in state.items()
    } == {
        'weight': (4, ),
        'bias': (4, ),
        'running_mean': (4, ),
        'running_var': (4, ),
        'num_batches_tracked': ()
    }


def test_elastic_linear():
    linear = ElasticLinear(10, 6)
    x = torch.randn(3, 7)
    y = linear(x, out_features=4)
    assert torch.equal(y, F.linear(x, linear.weight[:4, :7], linear.bias[:4]))
    state = linear.active_state_dict(7, 4)
    static = nn.Linear(7, 4)
    static.load_state_dict(state)
    assert torch.equal(static(x), y)


def test_elastic_se_matches_static_se_on_sliced_weights():
    torch.manual_seed(0)
    se = ElasticSqueezeExcitation(96)
    for param in se.parameters():
        nn.init.normal_(param, 0, 0.2)
    x = torch.randn(2, 72, 5, 5)
    static = SqueezeExcitation(72)
    static.load_state_dict(se.active_state_dict(72))
    # Hidden width follows the active channels: make_divisible(72 // 4) = 24.
    assert static.conv1.conv.weight.shape == (24, 72, 1, 1)
    assert torch.equal(se(x), static(x))


def test_active_weights_are_cached_only_while_nothing_changes():
    torch.manual_seed(0)
    conv = ElasticDepthwiseConv2d(8, [3, 5, 7]).eval()
    x = torch.randn(1, 6, 9, 9)

    def expected(kernel_size):
        weight = conv.active_weight(6, kernel_size).detach()
        return F.conv2d(x, weight, None, 1, kernel_size // 2, 1, 6)

    with torch.no_grad():
        first = conv(x, kernel_size=5)
        cached = conv._cache.value
        assert torch.equal(conv(x, kernel_size=5), first)
        assert conv._cache.value is cached  # reused
        conv.trans_matrix_7to5.mul_(2)  # an in-place update invalidates
        assert torch.equal(conv(x, kernel_size=5), expected(5))
        assert not torch.equal(conv(x, kernel_size=5), first)
        assert torch.equal(conv(x, kernel_size=3), expected(3))
        conv.load_state_dict({
            k: v * 0.5
            for k, v in conv.state_dict().items()
        })
        assert torch.equal(conv(x, kernel_size=3), expected(3))
        conv.weight.data = conv.weight.data.flip(0)  # new storage
        assert torch.equal(conv(x, kernel_size=3), expected(3))
    conv.weight.data.mul_(3)  # invisible to version counters ...
    conv.train().eval()  # ... so switching the mode clears the cache
    with torch.no_grad():
        assert torch.equal(conv(x, kernel_size=3), expected(3))
    # With gradients nothing is cached: backward reaches the parameters.
    conv(x, kernel_size=3).sum().backward()
    assert conv.weight.grad is not None and conv.trans_matrix_5to3.grad \
        is not None
