from .conv_cost import conv_cost, conv_output_size
from .cost_table import COST_UNITS, SlotCostTable
from .counters import count_macs_params
from .latency_table import (FIT_LIMITS, build_latency_table,
                            fit_latency_correction, latency_table_fit,
                            load_latency_table, save_latency_table,
                            table_costs, table_runtime, time_subnets)
from .mobilenet_v3_estimator import MobileNetV3ResourceEstimator
from .resnet_estimator import ResNetResourceEstimator
from .resource_estimator import ResourceEstimator, stage_block_sizes
from .runtimes import RUNTIMES, LatencyRuntime, build_runtime

__all__ = [
    'count_macs_params', 'MobileNetV3ResourceEstimator', 'conv_cost',
    'conv_output_size', 'SlotCostTable', 'COST_UNITS', 'build_latency_table',
    'FIT_LIMITS', 'latency_table_fit', 'load_latency_table',
    'save_latency_table', 'table_runtime', 'fit_latency_correction',
    'table_costs', 'time_subnets', 'ResNetResourceEstimator',
    'ResourceEstimator', 'stage_block_sizes', 'RUNTIMES', 'LatencyRuntime',
    'build_runtime'
]
from .resnet48_estimator import ResNet48ResourceEstimator

__all__ += ['ResNet48ResourceEstimator']
