from .ofa import OFA
from .subnet_classifier import SubnetClassifier

__all__ = ['OFA', 'SubnetClassifier']
