from .staged_cosine_lr import StagedCosineLR

__all__ = ['StagedCosineLR']
