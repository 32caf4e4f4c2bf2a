"""Mutables: one elastic choice of a supernet each."""
import random
from numbers import Number
from typing import Any, Callable, Iterable, Optional, Sequence

import torch.nn as nn

from mmofa.registry import MODELS


class ChoiceError(ValueError):
    """A value that is not a candidate of a mutable or a group of mutables."""


def is_number(value: Any) -> bool:
    """A real number that is not a bool."""
    return isinstance(value, Number) and not isinstance(value, bool)


@MODELS.register_module()
class OneShotMutableValue(nn.Module):
    """One elastic choice: its candidates, its current value and its alias.

    A mutable is a module without parameters so that a mutator finds it with
    ``model.modules()``; the module that owns it reads ``current_choice`` in
    its forward.

    Args:
        candidates (Sequence): The values it may take (numbers, kept sorted).
        alias (str): Unique name of the choice in its supernet, such as
            ``'layer2.0.kernel_size'``.
        dim (str, optional): The elastic dimension it belongs to
            (``'kernel_size'``, ``'expand_ratio'``, ``'depth'``...), used by
            per-dimension constraints. Defaults to the last part of alias.
        default (optional): Initial choice. Defaults to the largest.
        sample_extremes (bool): Random sampling draws only the smallest and
            the largest allowed candidate, for a choice whose values in
            between act like the smallest (the OFA ResNet stem, whose
            residual conv runs only at the largest depth). Any candidate
            may still be set. Defaults to False.
    """

    def __init__(self,
                 candidates: Sequence,
                 alias: str,
                 dim: Optional[str] = None,
                 default: Any = None,
                 sample_extremes: bool = False):
        super().__init__()
        candidates = list(candidates)
        if not candidates:
            raise ChoiceError(f'mutable {alias!r} has no candidates')
        bad = [c for c in candidates if not is_number(c)]
        if bad:
            raise ChoiceError(f'candidates of {alias!r} must be numbers, '
                              f'got {bad!r}')
        if len(set(candidates)) != len(candidates):
            raise ChoiceError(
                f'candidates of {alias!r} repeat a value: {candidates}')
        self.candidates = tuple(sorted(candidates))
        self.alias = alias
        self.dim = dim or alias.rsplit('.', 1)[-1]
        self.sample_extremes = sample_extremes
        self._current = self.candidates[-1]
        if default is not None:
            self.current_choice = default

    @property
    def current_choice(self):
        return self._current

    @current_choice.setter
    def current_choice(self, value) -> None:
        self._current = self.canonical(value)

    def canonical(self, value):
        """The candidate equal to ``value``; a ``ChoiceError`` if none is."""
        if is_number(value):
            for candidate in self.candidates:
                if candidate == value:
                    return candidate
        raise ChoiceError(f'{self.alias} = {value!r} is not allowed; '
                          f'allowed: {list(self.candidates)}')

    @property
    def max_choice(self):
        return self.candidates[-1]

    @property
    def min_choice(self):
        return self.candidates[0]

    def derive(self, function: Callable) -> 'DerivedMutable':
        """A value computed from this choice, e.g. the middle width."""
        return DerivedMutable(self, function)

    def extra_repr(self) -> str:
        return (f'alias={self.alias!r}, candidates={list(self.candidates)}, '
                f'current={self._current!r}')


class DerivedMutable:
    """A value that follows a mutable through a function.

    Not sampled and not found by the mutator: it only reads its source, e.g.
    ``mid = expand_ratio.derive(partial(expanded_width, in_channels))``.
    """

    def __init__(self, source: OneShotMutableValue, function: Callable):
        self.source = source
        self.function = function

    @property
    def current_choice(self):
        return self.function(self.source.current_choice)

    @property
    def candidates(self) -> tuple:
        return tuple(self.function(c) for c in self.source.candidates)

    def __repr__(self) -> str:
        return f'DerivedMutable(source={self.source.alias!r})'


def sample_from(candidates: Iterable, generator: Optional[random.Random]):
    """One of ``candidates`` drawn with ``generator`` (None: module random)."""
    candidates = tuple(candidates)
    if generator is None:
        return random.choice(candidates)
    return generator.choice(candidates)
