from .inference import init_model, save_subnet

__all__ = ['init_model', 'save_subnet']
