from .ofa_mobilenet_v3 import ElasticMBConvBlock, OFAMobileNetV3
from .ofa_resnet import ElasticResNetBottleneck, ElasticResNetStem, OFAResNet

__all__ = [
    'ElasticMBConvBlock', 'OFAMobileNetV3', 'ElasticResNetBottleneck',
    'ElasticResNetStem', 'OFAResNet'
]
from .ofa_resnet48 import ElasticBasicBlock, OFAResNet48

__all__ += ['ElasticBasicBlock', 'OFAResNet48']
