from .subnet_loops import SubnetTestLoop, SubnetValLoop

__all__ = ['SubnetTestLoop', 'SubnetValLoop']
