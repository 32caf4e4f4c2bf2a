from .activations import build_activation
from .bn_recalibration import recalibrate_bn
from .weight_init import OFAInitMixin, ofa_init_weights

__all__ = [
    'build_activation', 'recalibrate_bn', 'OFAInitMixin', 'ofa_init_weights'
]
