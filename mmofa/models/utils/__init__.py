from .activations import build_activation
from .weight_init import OFAInitMixin, ofa_init_weights

__all__ = ['build_activation', 'OFAInitMixin', 'ofa_init_weights']
