"""Configs given as a path, a Config or a dict."""
import copy
from pathlib import Path
from typing import Union

from mmengine.config import Config

ConfigLike = Union[str, Path, Config, dict]


def as_config(config: ConfigLike) -> Config:
    """A copy of ``config`` as a ``Config`` (a path is read)."""
    if isinstance(config, (str, Path)):
        if not Path(config).is_file():
            raise FileNotFoundError(f'config {str(config)!r} does not exist')
        return Config.fromfile(str(config))
    if isinstance(config, Config):
        return copy.deepcopy(config)
    if isinstance(config, dict):
        return Config(copy.deepcopy(config))
    raise TypeError('config must be a path, a Config or a dict, got '
                    f'{type(config).__name__}')


def update_config_file(path: Union[str, Path], values: dict) -> None:
    """Set top-level one-line assignments ``key = ...`` of a config file
    to ``values`` (written as Python literals), keeping everything else:
    how a user's copy of ``configs/custom/my_dataset.py`` is filled in.

    Raises:
        ValueError: A key is not assigned on exactly one line of its own
            (``key = <expression on that line>``) in the file.
    """
    import ast
    import re
    path = Path(path)
    text = path.read_text()
    for key, value in values.items():
        pattern = re.compile(rf'^{re.escape(key)} = (.*)$', re.M)
        found = pattern.findall(text)
        one_line = len(found) == 1
        if one_line:
            try:
                ast.parse(found[0], mode='eval')
            except SyntaxError:
                one_line = False
        if not one_line:
            raise ValueError(
                f'{path}: {key!r} must be assigned once, on one line of its '
                f'own (`{key} = ...`), to be set; found {len(found)} such '
                'lines')
        literal = repr(value)
        ast.literal_eval(literal)  # only plain values go into a config
        text = pattern.sub(lambda _: f'{key} = {literal}', text)
    path.write_text(text)
