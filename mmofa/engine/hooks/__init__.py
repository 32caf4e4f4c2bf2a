from .progressive_shrinking_hook import (ProgressiveShrinkingHook,
                                         RandomSubnetSamplingHook)
from .random_state_hook import (RandomStateHook, get_random_state,
                                set_random_state)
from .subnet_visualization_hook import SubnetVisualizationHook
from .validate_before_train_hook import ValidateBeforeTrainHook

__all__ = [
    'ProgressiveShrinkingHook', 'RandomSubnetSamplingHook', 'RandomStateHook',
    'get_random_state', 'set_random_state', 'ValidateBeforeTrainHook',
    'SubnetVisualizationHook'
]
