import logging
import math

import mmcv
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile
from mmengine.logging import print_log

from mmofa.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ResizeCenterCrop(BaseTransform):
    """Once-for-All's evaluation transform at one resolution.

    Resize the short edge to ``ceil(size / crop_ratio)`` (aspect kept), then
    crop ``size x size`` at the centre, with torchvision's rounding.
    ``SubnetValLoop`` sets ``size`` for each resolution it evaluates.

    Args:
        size (int): Output side. Defaults to 224.
        crop_ratio (float): Defaults to 0.875 (224 from 256).
        interpolation (str): Defaults to 'bilinear'.
        backend (str): Image backend of the resize. Defaults to 'pillow'.
    """

    def __init__(self,
                 size: int = 224,
                 crop_ratio: float = 0.875,
                 interpolation: str = 'bilinear',
                 backend: str = 'pillow'):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f'size = {size!r} must be a positive integer')
        if not 0 < crop_ratio <= 1:
            raise ValueError(f'crop_ratio = {crop_ratio} must be in (0, 1]')
        self.size = size
        self.crop_ratio = crop_ratio
        self.interpolation = interpolation
        self.backend = backend

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        short = math.ceil(self.size / self.crop_ratio)
        if h <= w:
            new_h, new_w = short, int(short * w / h)
        else:
            new_h, new_w = int(short * h / w), short
        img = mmcv.imresize(
            img, (new_w, new_h),
            interpolation=self.interpolation,
            backend=self.backend)
        top = int(round((new_h - self.size) / 2.0))
        left = int(round((new_w - self.size) / 2.0))
        img = img[top:top + self.size, left:left + self.size]
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, '
                f'crop_ratio={self.crop_ratio})')


@TRANSFORMS.register_module()
class LoadImageFromFile(MMCVLoadImageFromFile):
    """MMCV's image loading with a clear policy for unreadable files.

    An empty, truncated or corrupt file (or a missing one) either stops the
    run with an error naming the file (``on_error='raise'``, the default)
    or is skipped (``on_error='skip'``): the dataset then draws another
    sample, and the first skip of each file logs a warning with the number
    of unreadable files met so far in this process (``skipped_files``).

    Args:
        on_error (str): ``'raise'`` or ``'skip'``.
        **kwargs: Arguments of mmcv's ``LoadImageFromFile``.
    """
    skipped_files = set()  # per process

    def __init__(self, on_error: str = 'raise', **kwargs):
        if on_error not in ('raise', 'skip'):
            raise ValueError(f"on_error={on_error!r}; allowed: 'raise', "
                             "'skip'")
        super().__init__(**kwargs)
        self.on_error = on_error

    def transform(self, results: dict):
        path = results['img_path']
        try:
            loaded = super().transform(results)
            reason = None if loaded is not None else 'no image decoded'
        except Exception as error:  # the decoders raise many kinds
            loaded, reason = None, f'{type(error).__name__}: {error}'
        if loaded is not None:
            return loaded
        if self.on_error == 'raise':
            raise ValueError(
                f'cannot read image {path} ({reason}); fix or remove it, or '
                "set on_error='skip' in the pipeline's LoadImageFromFile")
        if path not in LoadImageFromFile.skipped_files:
            LoadImageFromFile.skipped_files.add(path)
            print_log(
                f'skipped unreadable image {path} ({reason}); '
                f'{len(LoadImageFromFile.skipped_files)} unreadable image(s) '
                'so far in this process',
                logger='current',
                level=logging.WARNING)
        return None
