"""Search over the subnets of any supernet family: the algorithms, apart
from the loops that run them (``mmofa.engine.runner``)."""
from .evolution import (ConstraintError, EvolutionSearch, EvolutionState,
                        cost_constraint)
from .nsga2 import FrontState, NSGA2Search
from .pareto import (crowding_distances, hypervolume, non_dominated,
                     non_dominated_ranks)

__all__ = [
    'ConstraintError', 'EvolutionSearch', 'EvolutionState', 'cost_constraint',
    'FrontState', 'NSGA2Search', 'crowding_distances', 'hypervolume',
    'non_dominated', 'non_dominated_ranks'
]
