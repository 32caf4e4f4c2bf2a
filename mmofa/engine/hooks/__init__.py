from .progressive_shrinking_hook import ProgressiveShrinkingHook
from .random_state_hook import (RandomStateHook, get_random_state,
                                set_random_state)

__all__ = [
    'ProgressiveShrinkingHook', 'RandomStateHook', 'get_random_state',
    'set_random_state'
]
