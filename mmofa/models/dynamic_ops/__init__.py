from .elastic_conv import ElasticConv2d, ElasticDepthwiseConv2d
from .elastic_linear import ElasticLinear
from .elastic_norm import ElasticBatchNorm2d
from .elastic_se import ElasticSqueezeExcitation

__all__ = [
    'ElasticConv2d', 'ElasticDepthwiseConv2d', 'ElasticBatchNorm2d',
    'ElasticLinear', 'ElasticSqueezeExcitation'
]
