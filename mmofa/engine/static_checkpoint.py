"""Testing a static subnet checkpoint with its supernet's config."""
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmofa.registry import MODELS
from mmofa.utils.checkpoint import load_checkpoint_file


def use_static_model_if_exported(cfg: Config, checkpoint: str) -> bool:
    """Switch ``cfg.model`` to the static subnet stored in ``checkpoint``.

    A checkpoint written by ``save_subnet`` / ``tools/export_subnet.py``
    holds the weights of a static model and, in ``meta.subnet``, the subnet
    they come from. With a supernet config, the static model of that subnet
    is built instead of the supernet, and the test loop evaluates it at the
    subnet's resolution. Other checkpoints leave the config unchanged.

    Returns:
        bool: Whether the config was switched.
    """
    meta = load_checkpoint_file(checkpoint).get('meta') or {}
    subnet = meta.get('subnet')
    model_type = str(cfg.model.get('type', ''))
    if subnet is None or model_type.split('.')[-1] != 'OFA':
        return False
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmofa')):
        supernet = MODELS.build(
            dict(cfg.model, subnet=subnet, distillation=None))
        cfg.model = supernet.export_subnet_config()
    resolution = subnet.get('resolution')
    test_cfg = cfg.get('test_cfg') or {}
    if resolution and 'resolutions' in test_cfg:
        test_cfg['resolutions'] = [resolution]
    return True
