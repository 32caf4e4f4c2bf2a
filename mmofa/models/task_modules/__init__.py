from .estimators import *  # noqa: F401,F403
from .predictors import *  # noqa: F401,F403
