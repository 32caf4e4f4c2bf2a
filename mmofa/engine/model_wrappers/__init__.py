from .supernet_ddp import SupernetDistributedWrapper

__all__ = ['SupernetDistributedWrapper']
