from .allocator import retain_freed_memory
from .make_divisible import make_divisible
from .setup_env import register_all_modules

__all__ = ['make_divisible', 'register_all_modules', 'retain_freed_memory']
