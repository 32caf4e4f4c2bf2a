from mmofa.search import (ConstraintError, EvolutionSearch, EvolutionState,
                          cost_constraint)
from .accuracy_predictor_loop import AccuracyPredictorLoop
from .evolution_search_loop import EvolutionSearchLoop
from .nsga2_search_loop import NSGA2SearchLoop
from .subnet_loops import SubnetTestLoop, SubnetValLoop
from .subnet_population_loop import SubnetPopulationLoop

__all__ = [
    'SubnetTestLoop', 'SubnetValLoop', 'EvolutionSearchLoop',
    'AccuracyPredictorLoop', 'EvolutionSearch', 'EvolutionState',
    'ConstraintError', 'cost_constraint'
]
__all__ += ['SubnetPopulationLoop', 'NSGA2SearchLoop']
from .checked_runner import CheckedRunner  # noqa: E402

__all__ += ['CheckedRunner']
