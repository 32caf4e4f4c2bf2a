"""mmofa: Once-for-All neural architecture search on MMEngine."""
from .version import __version__

__all__ = ['__version__']
