import mmofa.utils.checkpoint  # noqa: F401 (the atomic_local file backend)
from .dist import finish_distributed, init_distributed
from .hooks import *  # noqa: F401,F403
from .model_wrappers import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
from .schedulers import *  # noqa: F401,F403

__all__ = ['finish_distributed', 'init_distributed']
