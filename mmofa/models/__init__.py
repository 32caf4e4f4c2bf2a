from .algorithms import *  # noqa: F401,F403
from .architectures import *  # noqa: F401,F403
from .dynamic_ops import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .mutables import *  # noqa: F401,F403
from .mutators import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
