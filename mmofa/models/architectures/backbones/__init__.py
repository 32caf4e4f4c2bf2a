from .ofa_mobilenet_v3 import ElasticMBConvBlock, OFAMobileNetV3

__all__ = ['ElasticMBConvBlock', 'OFAMobileNetV3']
