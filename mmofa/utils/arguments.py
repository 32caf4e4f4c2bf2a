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


def check_keys(mapping,
               allowed,
               where: str,
               required=(),
               error: type = KeyError) -> None:
    """Refuse a mapping with keys outside ``allowed`` or without a key of
    ``required``: ``error`` names ``where``, the unknown (each with its
    closest allowed key) and missing keys, and what is allowed.

    Args:
        mapping: A config mapping (e.g. ``calibrate_bn``, a stage).
        allowed: Every key it may have (``required`` included or not).
        where (str): What the mapping is, for the message.
        required: Keys it must have.
        error (type): The exception class. Defaults to ``KeyError``.
    """
    allowed = set(allowed) | set(required)
    unknown = [str(k) for k in mapping if k not in allowed]
    missing = [k for k in required if k not in mapping]
    if not unknown and not missing:
        return
    parts = []
    if unknown:
        named = []
        for key in sorted(unknown):
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            named.append(f'{key!r}' +
                         (f' (did you mean {close[0]!r}?)' if close else ''))
        parts.append(f'unknown keys {", ".join(named)}')
    if missing:
        parts.append(f'missing {sorted(missing)}')
    raise error(f'{where}: {"; ".join(parts)}; allowed: {sorted(allowed)}' +
                (f' (required: {sorted(required)})' if required else ''))
