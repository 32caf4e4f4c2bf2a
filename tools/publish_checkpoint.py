"""Strip a training checkpoint to the weights: a file any torch and any
numpy (1.x or 2.x) opens with ``weights_only=True``.

    python tools/publish_checkpoint.py work_dirs/ps/epoch_120.pth \
        work_dirs/release/ofa_mbv3_w10.pth

Drops the optimizer, the parameter schedulers, the message hub and the
random generators' states (numpy arrays pickled under this machine's numpy,
which another numpy may not read); keeps ``state_dict`` and, in ``meta``,
only plain values: the subnet of an exported static model, the dataset's
class names, the mmofa and torch versions. As OpenMMLab's
``publish_model.py``, the name gets the first 8 hex digits of the file's
SHA-256 (``ofa_mbv3_w10-1a2b3c4d.pth``) unless ``--no-hash``.

``--format mmrazor`` (OFA MobileNetV3) writes the weights as MMRazor 1.0
loads them strictly: a supernet with its two channel masks added, a static
subnet also prefixed with ``architecture.`` as its subnet config expects.
"""
import argparse
import hashlib
import sys
from pathlib import Path

import torch

from mmofa.apis.convert import ConversionError, to_mmrazor_state_dict
from mmofa.utils.checkpoint import (CheckpointError, load_checkpoint_file,
                                    save_checkpoint_file, state_dict_of)
from mmofa.utils.paths import check_writable_file
from mmofa.version import __version__

#: ``meta`` entries a published checkpoint keeps (plain values only).
KEPT_META = ('subnet', 'mmofa_version', 'converted_from', 'source')


def plain(value):
    """``value`` as built-in Python types (numpy scalars and arrays, tuples
    become numbers and lists); None if it holds something else."""
    if isinstance(value, dict):
        items = {str(k): plain(v) for k, v in value.items()}
        return None if any(v is None and value[k] is not None
                           for k, v in zip(value, items.values())) else items
    if isinstance(value, (list, tuple)):
        items = [plain(v) for v in value]
        return None if any(i is None and v is not None
                           for i, v in zip(items, value)) else items
    if isinstance(value, str):
        return str(value)  # not a subclass (torch's TorchVersion)
    if isinstance(value, (bool, int, float)) or value is None:
        return type(value)(value) if value is not None else None
    if hasattr(value, 'tolist'):  # numpy scalars and arrays
        return value.tolist()
    return None


def published(checkpoint: dict) -> dict:
    meta = checkpoint.get('meta') or {}
    kept = {k: plain(meta[k]) for k in KEPT_META if k in meta}
    classes = (meta.get('dataset_meta') or {}).get('classes')
    if classes is not None:
        kept['classes'] = plain(list(classes))
    kept.update(
        mmofa_version=__version__, torch_version=str(torch.__version__))
    return dict(
        state_dict={
            k: v.detach().clone().contiguous()
            for k, v in state_dict_of(checkpoint).items()
        },
        meta={
            k: v
            for k, v in kept.items() if v is not None
        })


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='a training (or any mmofa) checkpoint')
    parser.add_argument('dst', help='the weights-only file to write')
    parser.add_argument(
        '--no-hash',
        action='store_true',
        help='keep DST as given, without the SHA-256 digits')
    parser.add_argument(
        '--format',
        choices=['mmofa', 'mmrazor'],
        default='mmofa',
        help="mmrazor: MMRazor's key layout and channel masks")
    args = parser.parse_args()
    check_writable_file(args.dst, 'DST')
    try:
        checkpoint = load_checkpoint_file(args.src)
        if not isinstance(checkpoint, dict):
            raise CheckpointError(f'{args.src} holds a '
                                  f'{type(checkpoint).__name__}')
        result = published(checkpoint)
        if args.format == 'mmrazor':
            result['state_dict'] = to_mmrazor_state_dict(
                result['state_dict'], args.src)
    except (CheckpointError, ConversionError) as error:
        sys.exit(f'error: {error}; nothing was written')
    dst = Path(args.dst)
    save_checkpoint_file(result, dst)
    if not args.no_hash:
        digest = hashlib.sha256(dst.read_bytes()).hexdigest()[:8]
        final = dst.with_name(f'{dst.stem}-{digest}{dst.suffix}')
        dst.replace(final)
        dst = final
    dropped = sorted(set(checkpoint) - {'state_dict', 'meta'})
    print(f'wrote {dst}: {len(result["state_dict"])} tensors, meta '
          f'{sorted(result["meta"])}; dropped {dropped}')


if __name__ == '__main__':
    main()
