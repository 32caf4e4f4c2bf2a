from mmofa.models.bricks import (ConvBNAct, GlobalAvgPool, SqueezeExcitation,
                                 build_last_conv, conv_bn_act, global_avg_pool)
from .mobilenet_v3 import (OFA_MBV3_BASE_WIDTHS, MBConvBlock,
                           MobileNetV3Layout, StaticMobileNetV3)
from .resnet import AvgPoolConvBN, ResNetBottleneck, ResNetStem, StaticResNet

__all__ = [
    'ConvBNAct', 'GlobalAvgPool', 'SqueezeExcitation', 'build_last_conv',
    'conv_bn_act', 'global_avg_pool', 'OFA_MBV3_BASE_WIDTHS', 'MBConvBlock',
    'MobileNetV3Layout', 'StaticMobileNetV3', 'AvgPoolConvBN',
    'ResNetBottleneck', 'ResNetStem', 'StaticResNet'
]
from .resnet48 import BasicBlock, StaticResNet48

__all__ += ['BasicBlock', 'StaticResNet48']
