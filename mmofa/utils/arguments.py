"""Clear errors for unknown keyword arguments (misspelled config keys)."""
import difflib
import functools
import inspect
from typing import Optional, Set


def accepted_arguments(cls) -> Optional[Set[str]]:
    """Keyword names the constructor of ``cls`` takes, following ``**kwargs``
    up the class hierarchy; None when it takes any name."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None or klass is object:
            continue
        params = list(inspect.signature(init).parameters.values())[1:]
        names.update(
            p.name for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names
    return None


def check_arguments(module):
    """Make the class ``module`` reject unknown keyword arguments.

    Functions and classes that accept any keyword pass through unchanged.
    """
    if not inspect.isclass(module) or getattr(module, '_mmofa_checked',
                                              None) is module:
        return module
    allowed = accepted_arguments(module)
    if allowed is None:
        return module
    original = module.__init__

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        unknown = [key for key in kwargs if key not in allowed]
        if unknown:
            raise TypeError(
                unknown_arguments_message(
                    type(self).__name__, unknown, allowed))
        original(self, *args, **kwargs)

    module.__init__ = __init__
    module._mmofa_checked = module
    return module


def unknown_arguments_message(owner: str, unknown, allowed) -> str:
    parts = []
    for key in unknown:
        close = difflib.get_close_matches(key, sorted(allowed), n=1)
        hint = f' (did you mean {close[0]!r}?)' if close else ''
        parts.append(f'{key!r}{hint}')
    return (f'{owner} got unknown argument(s) {", ".join(parts)}; allowed: '
            f'{", ".join(sorted(allowed))}')
