from .activations import build_activation
from .bn_recalibration import recalibrate_bn
from .resize import resize_batch
from .weight_init import OFAInitMixin, ofa_init_weights

__all__ = [
    'build_activation', 'recalibrate_bn', 'resize_batch', 'OFAInitMixin',
    'ofa_init_weights'
]
