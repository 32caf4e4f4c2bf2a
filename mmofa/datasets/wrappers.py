"""What MMEngine's dataset wrappers (``RepeatDataset``,
``ClassBalancedDataset``, ...) wrap: each image once, and its classes."""
import copy

#: Wrapper types whose ``dataset`` is the one that holds the images.
WRAPPER_TYPES = ('RepeatDataset', 'ClassBalancedDataset')


def _is_wrapper_cfg(cfg) -> bool:
    return isinstance(cfg, dict) and isinstance(cfg.get('dataset'), dict) \
        and str(cfg.get('type', '')).split('.')[-1] in WRAPPER_TYPES


def innermost_dataset_cfg(cfg: dict) -> dict:
    """A copy of the config of the dataset a chain of wrappers wraps (the
    config itself when it is not a wrapper's)."""
    while _is_wrapper_cfg(cfg):
        cfg = cfg['dataset']
    return copy.deepcopy(cfg)


def innermost_dataset(dataset):
    """The dataset a chain of built wrappers wraps."""
    while hasattr(dataset, 'dataset') and hasattr(dataset.dataset, 'metainfo'):
        dataset = dataset.dataset
    return dataset
