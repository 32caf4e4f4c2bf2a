from .elastic_backbone import ElasticBackbone, check_elastic_backbone
from .ofa_mobilenet_v3 import ElasticMBConvBlock, OFAMobileNetV3
from .ofa_resnet import ElasticResNetBottleneck, ElasticResNetStem, OFAResNet
from .ofa_resnet48 import ElasticBasicBlock, OFAResNet48

__all__ = [
    'ElasticBackbone', 'check_elastic_backbone', 'ElasticMBConvBlock',
    'OFAMobileNetV3', 'ElasticResNetBottleneck', 'ElasticResNetStem',
    'OFAResNet', 'ElasticBasicBlock', 'OFAResNet48'
]
