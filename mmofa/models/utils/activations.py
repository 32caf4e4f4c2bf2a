import torch.nn as nn

_ACTIVATIONS = {
    'relu': lambda: nn.ReLU(inplace=True),
    'relu6': lambda: nn.ReLU6(inplace=True),
    'h_swish': nn.Hardswish,
    'h_sigmoid': nn.Hardsigmoid,
}


def build_activation(name):
    """An activation by its Once-for-All name; ``None`` for no activation.

    ``h_swish`` is ``x * relu6(x + 3) / 6`` and ``h_sigmoid`` is
    ``relu6(x + 3) / 6``, computed by torch's fused Hardswish / Hardsigmoid.
    """
    if name is None:
        return None
    if name not in _ACTIVATIONS:
        raise ValueError(f'activation {name!r} is not supported; '
                         f'allowed: {sorted(_ACTIVATIONS)} or None')
    return _ACTIVATIONS[name]()
