import torch
import torch.nn.functional as F


def resize_batch(inputs: torch.Tensor, size: int) -> torch.Tensor:
    """A batch of images resized to ``size x size`` (bilinear, antialiased).

    The training and BN-calibration path of elastic resolution: the data
    pipeline crops at its own size and the batch is resized here.
    """
    if inputs.shape[-2:] == (size, size):
        return inputs
    return F.interpolate(
        inputs,
        size=(size, size),
        mode='bilinear',
        align_corners=False,
        antialias=True)
