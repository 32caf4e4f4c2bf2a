from .inference import (inference_model, init_model, save_subnet,
                        save_subnet_for_mmrazor, write_static_subnet)

__all__ = [
    'init_model', 'inference_model', 'save_subnet', 'save_subnet_for_mmrazor',
    'write_static_subnet'
]
