from .inference import init_model, save_subnet, write_static_subnet

__all__ = ['init_model', 'save_subnet', 'write_static_subnet']
