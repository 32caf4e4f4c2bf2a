import random
from collections import OrderedDict
from fnmatch import fnmatchcase
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.model import BaseModule

from mmofa.models.mutables import (ChoiceError, OneShotMutableValue, is_number,
                                   sample_from)
from mmofa.registry import MODELS

Generator = Union[random.Random, int, None]


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
    Per-dimension constraints (progressive shrinking's stages) restrict what
    :meth:`sample_choices` may draw, not what :meth:`set_choices` accepts.

    Args:
        custom_groups (dict, optional): Group name -> alias pattern(s)
            (``fnmatch`` style), e.g.
            ``{'layer2.expand_ratio': 'layer2.*.expand_ratio'}``.
    """

    def __init__(self,
                 custom_groups: Optional[Mapping[str,
                                                 Union[str,
                                                       Sequence[str]]]] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        self.custom_groups = dict(custom_groups or {})
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
                        or other.dim != first.dim):
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

    def allowed_choices(self, name: str) -> tuple:
        """Candidates of group ``name`` under the current constraints."""
        members = self._groups[name]
        allowed = self._constraints.get(members[0].dim)
        if allowed is None:
            return members[0].candidates
        return tuple(c for c in members[0].candidates if c in allowed)

    @property
    def search_space(self) -> Dict[str, tuple]:
        """Group name -> candidates under the current constraints."""
        return OrderedDict(
            (name, self.allowed_choices(name)) for name in self._groups)

    # ---------------------------------------------------------- choices
    def sample_choices(self,
                       mode: str = 'random',
                       generator: Generator = None,
                       constrained: bool = True) -> Dict[str, object]:
        """Choices for every group: ``'random'``, ``'max'`` or ``'min'``.

        Random draws use ``generator`` (a ``random.Random`` or an int seed),
        group by group in a fixed order, so equal seeds give equal subnets
        in every process. ``constrained=False`` ignores the constraints.
        """
        if mode not in ('random', 'max', 'min'):
            raise ValueError(f"mode must be 'random', 'max' or 'min', "
                             f'got {mode!r}')
        generator = as_generator(generator)
        choices = OrderedDict()
        for name in self._groups:
            allowed = (
                self.allowed_choices(name)
                if constrained else self._groups[name][0].candidates)
            if mode == 'max':
                choices[name] = allowed[-1]
            elif mode == 'min':
                choices[name] = allowed[0]
            else:
                choices[name] = sample_from(allowed, generator)
        return choices

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
