"""What every family's subnets share: errors, choices, staged spaces,
per-stage and per-block checks, resolutions, subnet files and format
dispatch. No family owns this module; every family's subnet module uses it.
"""
import json
from dataclasses import dataclass, replace
from numbers import Number
from pathlib import Path
from typing import (Any, Callable, Dict, Mapping, Optional, Sequence, Tuple,
                    Union)

import yaml


class SubnetError(ValueError):
    """A subnet description that does not fit a supernet's search space."""


class Subnet:
    """What every family's subnet (a frozen, hashable dataclass with a
    ``resolution`` field) shares.

    :meth:`checked` validates a subnet against its space: the fields of
    :attr:`per_stage_fields` must be one entry per stage, the family's
    :meth:`checked_fields` returns the other fields canonical (each value
    one of the candidates, or a ``SubnetError`` naming it), and the
    resolution must be one the network takes.
    """
    #: Fields with one entry per stage (checked before the values).
    per_stage_fields: Tuple[str, ...] = ()

    def with_resolution(self, resolution: Optional[int]):
        """This subnet at another input size (None: none)."""
        return replace(self, resolution=resolution)

    def sized(self, data: dict, key: str = 'resolution') -> dict:
        """``data`` with this subnet's resolution under ``key``, if it has
        one (a format's mapping)."""
        if self.resolution is not None:
            data[key] = self.resolution
        return data

    def checked(self, space, source: str = 'subnet'):
        """This subnet validated against ``space``, numbers canonical."""
        if self.per_stage_fields:
            check_per_stage(
                {name: getattr(self, name)
                 for name in self.per_stage_fields}, space.num_stages,
                source)
        return type(self)(
            **self.checked_fields(space, source),
            resolution=optional_resolution(self.resolution, source,
                                           space.min_resolution))

    def checked_fields(self, space, source: str) -> dict:
        """Every field but the resolution, checked and canonical."""
        raise NotImplementedError

    # ----------------------------------------------- mmofa's own format
    #: The fields mmofa's mapping holds (besides ``resolution``).
    mmofa_fields: Tuple[str, ...] = ()
    #: Attributes of the space the mapping records, checked when read (a
    #: file made for another width is refused by name).
    mmofa_space_fields: Tuple[str, ...] = ()

    @classmethod
    def from_mmofa(cls, data: Mapping, space, source: str = 'subnet'):
        """From mmofa's mapping: the fields, optionally the recorded space
        attributes and the resolution."""
        check_keys(data,
                   {*cls.mmofa_fields, *cls.mmofa_space_fields, 'resolution'},
                   set(cls.mmofa_fields), source)
        for key in cls.mmofa_space_fields:
            expected = as_lists(getattr(space, key))
            if key in data and as_lists(data[key]) != expected:
                raise SubnetError(f'{source}: {key} = {data[key]!r} but the '
                                  f'supernet has {key} {expected!r}')
        fields = {f: data[f] for f in cls.mmofa_fields}
        return cls(
            **fields,
            resolution=data.get('resolution')).checked(space, source)

    def to_mmofa(self, space) -> dict:
        """mmofa's mapping: the fields as (nested) lists, the recorded
        space attributes, the resolution if there is one."""
        data = {f: as_lists(getattr(self, f)) for f in self.mmofa_fields}
        data.update(
            {k: as_lists(getattr(space, k))
             for k in self.mmofa_space_fields})
        return self.sized(data)


def as_lists(value):
    """Tuples (nested) as lists, anything else as it is (YAML-ready)."""
    if isinstance(value, (list, tuple)):
        return [as_lists(v) for v in value]
    return value


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, Number) and not isinstance(value, bool)


class StagedSearchSpace:
    """Stage and block counts of a search space with ``depths`` (the
    candidate depths of each stage)."""

    @property
    def num_stages(self) -> int:
        return len(self.depths)

    @property
    def max_depths(self) -> Tuple[int, ...]:
        return tuple(max(d) for d in self.depths)

    @property
    def num_blocks(self) -> int:
        """Elastic blocks in the supernet (20 for the official MobileNetV3
        space)."""
        return sum(self.max_depths)


def check_length(value,
                 count: int,
                 key: str,
                 source: str,
                 entries: str,
                 differs: str,
                 error: type = SubnetError) -> None:
    """``value`` is a list (or tuple) of ``count`` entries; else ``error``
    names ``source`` and ``key``: ``... must be a list of {entries}`` or
    ``... has {len} {differs}: [...]``."""
    if not isinstance(value, (list, tuple)):
        raise error(f'{source}: {key} = {value!r} must be a list of '
                    f'{entries}')
    if len(value) != count:
        raise error(f'{source}: {key} has {len(value)} {differs}: '
                    f'{list(value)!r}')


def check_per_stage(values: Mapping[str, object],
                    num_stages: int,
                    source: str,
                    network: str = 'the supernet',
                    error: type = SubnetError) -> None:
    """Each of ``values`` (name -> value: a subnet's fields, a network's
    arguments) is a list of ``num_stages`` entries, one per stage of
    ``network``; else ``error`` names ``source``, the value and the count.
    """
    for name, value in values.items():
        check_length(value, num_stages, name, source,
                     f'{num_stages} entries (one per stage)',
                     f'stages, {network} has {num_stages}', error)


def check_per_block(blocks,
                    key: str,
                    stage: int,
                    depth: int,
                    allowed: Sequence,
                    source: str,
                    label: str,
                    integer: bool = False) -> tuple:
    """The values of the active blocks of ``stage``, one per block, each
    canonical in ``allowed``; ``key`` names the list (``'kernel_size[2]'``)."""
    check_length(blocks, depth, key, source,
                 f'{depth} values (one per active block)',
                 f'values but depth[{stage}] is {depth}')
    return tuple(
        choice(v, allowed, f'{key}[{b}]', source, label, integer)
        for b, v in enumerate(blocks))


def choice(value,
           allowed: Sequence,
           key: str,
           source: str,
           label: str,
           integer: bool = False):
    """``value`` as the equal candidate of ``allowed``, or a SubnetError."""
    valid_type = is_int(value) if integer else is_number(value)
    if not valid_type:
        kind = 'an integer' if integer else 'a number'
        raise SubnetError(f'{source}: {key} = {value!r} must be {kind}; '
                          f'allowed {label}: {list(allowed)}')
    for candidate in allowed:
        if candidate == value:
            return candidate
    raise SubnetError(f'{source}: {key} = {value!r} is not allowed; '
                      f'allowed {label}: {list(allowed)}')


def arch_dict_list(arch: Mapping, key: str, length: int, source: str) -> list:
    """``arch[key]`` as a list of ``length`` entries (a number broadcast)."""
    value = arch[key]
    if is_number(value):
        value = [value] * length
    check_length(value, length, key, source,
                 f'{length} numbers or one number',
                 f'entries, the supernet needs {length}')
    return list(value)


def arch_dict_resolution(arch: Mapping, source: str):
    """The resolution of an official arch dict (``r``, ``image_size`` or
    ``resolution``, at most one), unchecked; None if it has none."""
    keys = [k for k in ('r', 'image_size', 'resolution') if k in arch]
    if len(keys) > 1:
        raise SubnetError(f'{source}: give the resolution once, got {keys}')
    if not keys:
        return None
    resolution = arch[keys[0]]
    # The official NAS code stores it as a one-element list.
    if isinstance(resolution, (list, tuple)) and len(resolution) == 1:
        resolution = resolution[0]
    return resolution


def check_resolution(value, source: str, minimum: int = 1) -> int:
    """``value`` if it is an integer size of at least ``minimum`` pixels."""
    if not is_int(value) or value < 1:
        raise SubnetError(f'{source}: resolution = {value!r} must be a '
                          'positive integer (pixels)')
    if value < minimum:
        raise SubnetError(
            f'{source}: resolution = {value} is below {minimum}, the '
            f"network's total stride; allowed: integers >= {minimum}")
    return value


def optional_resolution(value, source: str, minimum: int = 1) -> Optional[int]:
    return None if value is None else check_resolution(value, source, minimum)


def check_keys(data: Mapping, allowed: set, required: set,
               source: str) -> None:
    if not isinstance(data, Mapping):
        raise SubnetError(f'{source}: expected a mapping, got '
                          f'{type(data).__name__}: {data!r}')
    unknown = sorted(set(map(str, data)) - allowed)
    if unknown:
        raise SubnetError(f'{source}: unknown keys {unknown}; allowed: '
                          f'{sorted(allowed)}')
    missing = sorted(required - set(data))
    if missing:
        raise SubnetError(f'{source}: missing keys {missing}')


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f'key {key!r} appears twice (lines '
                    f'{seen[key] + 1} and {key_node.start_mark.line + 1})',
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def _unique_json_keys(pairs):
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f'keys {repeated} appear twice')
    return dict(pairs)


def read_subnet_file(path: Union[str, Path]) -> Any:
    """The mapping stored in a subnet YAML or JSON file.

    A key given twice is an error (YAML and JSON parsers would silently keep
    the last one).
    """
    path = Path(path)
    if not path.is_file():
        raise SubnetError(f'subnet file {str(path)!r} does not exist')
    text = path.read_text(encoding='utf-8')
    try:
        if path.suffix == '.json':
            return json.loads(text, object_pairs_hook=_unique_json_keys)
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except (yaml.YAMLError, ValueError) as error:
        raise SubnetError(
            f'{path}: not valid {"JSON" if path.suffix == ".json" else "YAML"}'
            f': {error}') from None


def write_subnet_file(data: Mapping, path: Union[str, Path]) -> Path:
    """Write a subnet mapping as YAML (inner lists on one line)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(dict(data), default_flow_style=None, sort_keys=False),
        encoding='utf-8')
    return path


def load_subnet_data(subnet: Any, source: Optional[str]) -> Tuple[Any, str]:
    """``subnet`` as data and where it came from: a path (``str`` or
    ``Path``) is read as a subnet file, anything else is the data itself."""
    if isinstance(subnet, (str, Path)):
        return read_subnet_file(subnet), source or str(subnet)
    return subnet, source or 'subnet'


@dataclass(frozen=True)
class SubnetFormats:
    """A family's subnet files, declared once in its subnet module and
    named by its backbone (``ElasticBackbone.subnets``).

    Attributes:
        methods (dict): Format name -> the subnet method that writes it
            (``to_mmofa``, ...); the first is mmofa's own format, read and
            written by every tool.
        parse (callable): ``parse(subnet, space, source)``: a checked
            subnet from any accepted form.
        family (str): The family in messages (``'an OFA ResNet'``).
    """
    methods: Dict[str, str]
    parse: Callable
    family: str

    @property
    def names(self) -> Tuple[str, ...]:
        """The formats :meth:`dump` writes."""
        return tuple(self.methods)

    def dump(self, subnet, space, fmt: str = 'mmofa') -> Any:
        """``subnet`` in format ``fmt``: a mapping, or a string for a
        format of codes (``arch_code``)."""
        if fmt not in self.methods:
            raise ValueError(f'unknown subnet format {fmt!r}; allowed: '
                             f'{list(self.methods)} (subnets of '
                             f'{self.family})')
        return getattr(subnet, self.methods[fmt])(space)
