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
