from .counters import count_macs_params
from .mobilenet_v3_estimator import MobileNetV3ResourceEstimator, conv_cost

__all__ = ['count_macs_params', 'MobileNetV3ResourceEstimator', 'conv_cost']
