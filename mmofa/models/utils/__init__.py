from .activations import build_activation
from .weight_init import ofa_init_weights

__all__ = ['build_activation', 'ofa_init_weights']
