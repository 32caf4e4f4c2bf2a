from .kd_loss import KDLoss

__all__ = ['KDLoss']
