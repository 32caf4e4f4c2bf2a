import itertools
import random
from collections import OrderedDict
from fnmatch import fnmatchcase
from typing import (Dict, Iterator, List, Mapping, NamedTuple, Optional,
                    Sequence, Tuple, Union)

import torch.nn as nn
from mmengine.model import BaseModule

from mmofa.models.mutables import (ChoiceError, OneShotMutableValue, is_number,
                                   sample_from)
from mmofa.registry import MODELS
from mmofa.utils.arguments import check_keys

Generator = Union[random.Random, int, None]
GRANULARITIES = ('layer', 'stage', 'network')


class SamplingUnit(NamedTuple):
    """What one draw sets: one group, or coupled groups of one stage.

    ``choices`` is None for a single group (its allowed candidates are
    drawn); for coupled groups it lists the joint values, one per entry of
    ``dims``, each set on every group of that dimension.
    """
    name: str
    stage: str
    dims: Tuple[str, ...]
    groups: Tuple[str, ...]
    choices: Optional[Tuple[tuple, ...]] = None


def as_generator(generator: Generator) -> Optional[random.Random]:
    """A ``random.Random`` from a generator or an int seed (None: module)."""
    if generator is None or isinstance(generator, random.Random):
        return generator
    if isinstance(generator, int) and not isinstance(generator, bool):
        return random.Random(generator)
    raise TypeError('generator must be a random.Random, an int seed or None, '
                    f'got {type(generator).__name__}')


@MODELS.register_module()
class OFAMutator(BaseModule):
    """Finds the mutables of a supernet, groups them and drives their choices.

    Mutables in one group share one choice. By default every mutable is its
    own group, named by its alias; ``custom_groups`` ties several together.
    Per-dimension constraints (progressive shrinking's stages) and
    couplings restrict what :meth:`sample_choices` may draw, not what
    :meth:`set_choices` accepts.

    The stage of a mutable is the first part of its alias (``layer2`` of
    ``layer2.0.kernel_size``); couplings and the sampling granularities
    work per stage.

    Args:
        custom_groups (dict, optional): Group name -> alias pattern(s)
            (``fnmatch`` style), e.g.
            ``{'layer2.expand_ratio': 'layer2.*.expand_ratio'}``.
        couplings (list[dict], optional): Compound couplings (CompOFA), each
            ``dict(dims=('depth', 'expand_ratio'), choices=[(2, 3), (3, 4),
            (4, 6)])``: in every stage that has those dimensions, one draw
            picks one of ``choices`` and sets each dimension's groups of the
            stage (all its blocks) to that value.
    """

    def __init__(self,
                 custom_groups: Optional[Mapping[str,
                                                 Union[str,
                                                       Sequence[str]]]] = None,
                 couplings: Optional[Sequence[dict]] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        self.custom_groups = dict(custom_groups or {})
        self.couplings = [
            _check_coupling(c, i) for i, c in enumerate(couplings or [])
        ]
        self._units: List[SamplingUnit] = []
        self._groups: 'OrderedDict[str, Tuple[OneShotMutableValue, ...]]' = \
            OrderedDict()
        self._alias_to_group: Dict[str, str] = {}
        self._constraints: Dict[str, tuple] = {}

    # ------------------------------------------------------------ set-up
    def prepare_from_supernet(self, supernet: nn.Module) -> None:
        """Collect the mutables of ``supernet`` and build the groups."""
        mutables = OrderedDict()
        for module in supernet.modules():
            if isinstance(module, OneShotMutableValue):
                if module.alias in mutables:
                    raise ChoiceError(
                        f'two mutables share the alias {module.alias!r}')
                mutables[module.alias] = module
        if not mutables:
            raise ValueError(f'{type(supernet).__name__} has no mutables: '
                             'is it a supernet?')

        group_of = {}
        for name, patterns in self.custom_groups.items():
            patterns = [patterns] if isinstance(patterns,
                                                str) else list(patterns)
            members = [
                alias for alias in mutables if any(
                    fnmatchcase(alias, p) for p in patterns)
            ]
            if not members:
                examples = ', '.join(list(mutables)[:3])
                raise ChoiceError(
                    f'custom group {name!r}: {patterns} match no mutable '
                    f'(aliases look like {examples}, ...)')
            for alias in members:
                if alias in group_of:
                    raise ChoiceError(
                        f'{alias!r} is in custom groups {group_of[alias]!r} '
                        f'and {name!r}')
                group_of[alias] = name
        for alias in mutables:
            if alias not in group_of and alias in self.custom_groups:
                raise ChoiceError(f'custom group name {alias!r} is the alias '
                                  'of a mutable outside it')

        groups = OrderedDict()
        for alias, mutable in mutables.items():
            groups.setdefault(group_of.get(alias, alias), []).append(mutable)
        for name, members in groups.items():
            first = members[0]
            for other in members[1:]:
                if (other.candidates != first.candidates
                        or other.dim != first.dim
                        or other.sample_extremes != first.sample_extremes):
                    raise ChoiceError(
                        f'group {name!r} mixes {first.alias} ({first.dim}, '
                        f'{list(first.candidates)}) and {other.alias} '
                        f'({other.dim}, {list(other.candidates)})')
        self._groups = OrderedDict(
            (name, tuple(members)) for name, members in groups.items())
        self._alias_to_group = {
            m.alias: name
            for name, members in self._groups.items()
            for m in members
        }
        self._constraints = {}
        self._units = self._build_units()

    def _build_units(self) -> List[SamplingUnit]:
        """One unit per group, coupled groups of a stage merged into one
        unit at the place of their first group."""
        coupled = {}  # group name -> its unit
        for coupling in self.couplings:
            dims = coupling['dims']
            by_stage = OrderedDict()
            for name, members in self._groups.items():
                if members[0].dim in dims:
                    by_stage.setdefault(stage_of(members[0].alias),
                                        []).append(name)
            if not by_stage:
                raise ChoiceError(f'coupling of {list(dims)}: no mutable has '
                                  f'these dimensions; dimensions: '
                                  f'{list(self.dims)}')
            for stage, names in by_stage.items():
                present = {self._groups[n][0].dim for n in names}
                if present != set(dims):
                    raise ChoiceError(
                        f'coupling of {list(dims)}: stage {stage!r} has only '
                        f'{sorted(present)}')
                for name in names:
                    if name in coupled:
                        raise ChoiceError(f'{name!r} is in two couplings')
                    members = self._groups[name]
                    column = dims.index(members[0].dim)
                    for choice in coupling['choices']:
                        if choice[column] not in members[0].candidates:
                            raise ChoiceError(
                                f'coupling choice {dict(zip(dims, choice))}: '
                                f'{members[0].alias} = {choice[column]!r} is '
                                'not a candidate; allowed: '
                                f'{list(members[0].candidates)}')
                unit = SamplingUnit(f'{stage}.{"+".join(dims)}', stage, dims,
                                    tuple(names), coupling['choices'])
                coupled.update((name, unit) for name in names)
        units = []
        for name, members in self._groups.items():
            if name not in coupled:
                units.append(
                    SamplingUnit(name, stage_of(members[0].alias),
                                 (members[0].dim, ), (name, )))
            elif coupled[name].groups[0] == name:
                units.append(coupled[name])
        return units

    @property
    def groups(self) -> Dict[str, Tuple[OneShotMutableValue, ...]]:
        """Group name -> its mutables."""
        return OrderedDict(self._groups)

    @property
    def dims(self) -> Tuple[str, ...]:
        """The elastic dimensions present, in order of appearance."""
        return tuple(
            OrderedDict((m[0].dim, None) for m in self._groups.values()))

    def group_of(self, alias: str) -> str:
        if alias not in self._alias_to_group:
            raise ChoiceError(f'no mutable has the alias {alias!r}')
        return self._alias_to_group[alias]

    # ------------------------------------------------------ constraints
    @property
    def constraints(self) -> Dict[str, tuple]:
        """Dimension -> allowed values (unconstrained dimensions absent)."""
        return dict(self._constraints)

    def set_constraints(self, constraints: Mapping[str, Sequence]) -> None:
        """Restrict sampling per dimension, e.g. ``{'expand_ratio': [4, 6]}``.

        Replaces earlier constraints; a dimension left out is unconstrained.
        """
        checked = {}
        for dim, values in (constraints or {}).items():
            if dim not in self.dims:
                raise ChoiceError(f'constraint on unknown dimension {dim!r}; '
                                  f'dimensions: {list(self.dims)}')
            values = [values] if is_number(values) else list(values)
            if not values or not all(is_number(v) for v in values):
                raise ChoiceError(f'constraint {dim}={values!r} must be a '
                                  'non-empty list of numbers')
            candidates = set()
            for members in self._groups.values():
                if members[0].dim == dim:
                    allowed = [c for c in members[0].candidates if c in values]
                    if not allowed:
                        raise ChoiceError(
                            f'constraint {dim}={values} leaves no choice for '
                            f'{members[0].alias} (candidates '
                            f'{list(members[0].candidates)})')
                    candidates.update(members[0].candidates)
            unknown = [v for v in values if v not in candidates]
            if unknown:
                raise ChoiceError(
                    f'constraint {dim}={values}: {unknown} is not a '
                    f'candidate; allowed: {sorted(candidates)}')
            checked[dim] = tuple(sorted(values))
        self._constraints = checked

    def clear_constraints(self) -> None:
        self._constraints = {}

    def allowed_choices(self, name: str, constrained: bool = True) -> tuple:
        """Candidates of group ``name`` under the current constraints
        (``constrained=False``: all), only the smallest and largest of them
        for a ``sample_extremes`` mutable."""
        first = self._groups[name][0]
        allowed = self._constraints.get(first.dim) if constrained else None
        choices = first.candidates if allowed is None else tuple(
            c for c in first.candidates if c in allowed)
        if first.sample_extremes:
            choices = tuple(sorted({choices[0], choices[-1]}))
        return choices

    @property
    def search_space(self) -> Dict[str, tuple]:
        """Group name -> candidates under the current constraints."""
        return OrderedDict(
            (name, self.allowed_choices(name)) for name in self._groups)

    # ---------------------------------------------------------- choices
    def unit_choices(self,
                     unit: SamplingUnit,
                     constrained: bool = True) -> tuple:
        """The values a unit may take (joint tuples for a coupling)."""
        if unit.choices is None:
            return self.allowed_choices(unit.groups[0], constrained)
        if not constrained:
            return unit.choices
        allowed = tuple(
            c for c in unit.choices if all(
                dim not in self._constraints or value in self._constraints[dim]
                for dim, value in zip(unit.dims, c)))
        if not allowed:
            raise ChoiceError(
                f'constraints {self._constraints} leave no coupled choice of '
                f'{unit.name} (choices {[list(c) for c in unit.choices]})')
        return allowed

    def sample_choices(self,
                       mode: str = 'random',
                       generator: Generator = None,
                       constrained: bool = True,
                       granularity: str = 'layer') -> Dict[str, object]:
        """Choices for every group: ``'random'``, ``'max'`` or ``'min'``.

        Random draws use ``generator`` (a ``random.Random`` or an int seed),
        unit by unit in a fixed order, so equal seeds give equal subnets
        in every process. ``constrained=False`` ignores the constraints.
        ``granularity`` ties random draws: ``'layer'`` draws each unit
        (group or coupling) on its own; ``'stage'`` draws once per stage and
        dimension (all blocks of a stage share a kernel size, an expand
        ratio); ``'network'`` once per dimension for the whole network.
        """
        if mode not in ('random', 'max', 'min'):
            raise ValueError(f"mode must be 'random', 'max' or 'min', "
                             f'got {mode!r}')
        check_granularity(granularity)
        generator = as_generator(generator)
        drawn = {}  # tie key -> (unit name, its choices, the value drawn)
        values = []
        for unit in self._units:
            allowed = self.unit_choices(unit, constrained)
            if mode == 'max':
                value = allowed[-1]
            elif mode == 'min':
                value = allowed[0]
            else:
                key = (
                    unit.name if granularity == 'layer' else
                    (unit.stage,
                     unit.dims) if granularity == 'stage' else unit.dims)
                if key not in drawn:
                    drawn[key] = (unit.name, allowed,
                                  sample_from(allowed, generator))
                first, first_allowed, value = drawn[key]
                if allowed != first_allowed:
                    raise ChoiceError(
                        f'granularity {granularity!r} draws {unit.name} and '
                        f'{first} together, but they allow different '
                        f'values: {list(allowed)} and {list(first_allowed)}')
            values.append(value)
        return self._group_choices(values)

    def _group_choices(self, unit_values: Sequence) -> Dict[str, object]:
        """Group name -> choice, in group order, from one value per unit
        (a joint tuple for a coupling)."""
        choices = {}
        for unit, value in zip(self._units, unit_values):
            if unit.choices is None:
                choices[unit.groups[0]] = value
            else:
                for name in unit.groups:
                    dim = self._groups[name][0].dim
                    choices[name] = value[unit.dims.index(dim)]
        return OrderedDict((name, choices[name]) for name in self._groups)

    def iter_choices(self, constrained: bool = True) -> Iterator[Dict]:
        """Every combination of the units' values (the sampling space: for
        a small or coupled space; the full OFA space has ~10^19)."""
        for values in itertools.product(*(self.unit_choices(u, constrained)
                                          for u in self._units)):
            yield self._group_choices(values)

    def set_choices(self, choices: Mapping[str, object]) -> None:
        """Set groups by name; groups left out keep their choice."""
        for name in choices:
            if name not in self._groups:
                examples = ', '.join(list(self._groups)[:3])
                raise ChoiceError(f'unknown group {name!r}; groups look like '
                                  f'{examples}, ...')
        for name, value in choices.items():
            members = self._groups[name]
            value = members[0].canonical(value)
            for mutable in members:
                mutable.current_choice = value

    def set_alias_choices(self, alias_choices: Mapping[str, object]) -> None:
        """Set mutables by alias; aliases of one group must agree."""
        grouped = {}
        for alias, value in alias_choices.items():
            name = self.group_of(alias)
            if name in grouped and grouped[name][1] != value:
                raise ChoiceError(
                    f'{alias}={value!r} and {grouped[name][0]}='
                    f'{grouped[name][1]!r} are in one group ({name!r}) and '
                    'must be equal')
            grouped[name] = (alias, value)
        self.set_choices({name: v for name, (_, v) in grouped.items()})

    @property
    def current_choices(self) -> Dict[str, object]:
        return OrderedDict((name, members[0].current_choice)
                           for name, members in self._groups.items())


def check_granularity(granularity: str) -> str:
    """``granularity`` if it is one of :data:`GRANULARITIES`."""
    if granularity not in GRANULARITIES:
        raise ValueError(f'granularity {granularity!r}; allowed: '
                         f'{list(GRANULARITIES)}')
    return granularity


def stage_of(alias: str) -> str:
    """The stage of a mutable: the first part of its alias."""
    return alias.split('.', 1)[0]


def _check_coupling(coupling: Mapping, index: int) -> dict:
    """A coupling config with ``dims`` and joint ``choices``, checked."""
    check_keys(coupling, (), f'couplings[{index}]', ('dims', 'choices'),
               ChoiceError)
    dims = tuple(coupling['dims'])
    if len(dims) < 2 or len(set(dims)) != len(dims):
        raise ChoiceError(f'couplings[{index}]: dims {list(dims)} must name '
                          'two or more different dimensions')
    choices = []
    for choice in coupling['choices']:
        choice = tuple(choice) if isinstance(choice, (list, tuple)) else ()
        if len(choice) != len(dims) or not all(is_number(v) for v in choice):
            raise ChoiceError(
                f'couplings[{index}]: choice {choice or coupling["choices"]} '
                f'must be {len(dims)} numbers, one per dimension {list(dims)}')
        choices.append(choice)
    if not choices or len(set(choices)) != len(choices):
        raise ChoiceError(f'couplings[{index}]: choices {choices} must be '
                          'non-empty and distinct')
    return dict(dims=dims, choices=tuple(sorted(choices)))
