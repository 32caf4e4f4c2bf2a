"""Search over the subnets of any supernet family: the algorithms, apart
from the loops that run them (``mmofa.engine.runner``)."""
from .evolution import (ConstraintError, EvolutionSearch, EvolutionState,
                        cost_constraint)

__all__ = [
    'ConstraintError', 'EvolutionSearch', 'EvolutionState', 'cost_constraint'
]
