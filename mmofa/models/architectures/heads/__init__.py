from .dropout_linear_head import DropoutLinearClsHead

__all__ = ['DropoutLinearClsHead']
from .elastic_linear_head import ElasticLinearClsHead

__all__ += ['ElasticLinearClsHead']
