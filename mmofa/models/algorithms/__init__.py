from .ofa import OFA

__all__ = ['OFA']
