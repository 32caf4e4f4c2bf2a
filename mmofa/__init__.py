"""mmofa: Once-for-All neural architecture search on MMEngine."""
import warnings

from .version import __version__

# mmcv-lite has no compiled ops; mmpretrain's import of mmcv.cnn warns about
# one (deformable attention) that mmofa never uses.
warnings.filterwarnings(
    'ignore', message='Fail to import ``MultiScaleDeformableAttention``')

__all__ = ['__version__']
