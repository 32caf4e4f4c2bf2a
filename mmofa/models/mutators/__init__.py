from .ofa_mutator import OFAMutator, as_generator

__all__ = ['OFAMutator', 'as_generator']
