"""Export a static subnet (or a subnet of a supernet) to ONNX and check it.

    python tools/deployment/export_onnx.py \
        work_dirs/ofa_search/search/flops300/best_config.py \
        work_dirs/ofa_search/search/flops300/best.pth --out flops300.onnx
    python tools/deployment/export_onnx.py \
        configs/ofa/ofa_mbv3_w10_supernet.py SUPERNET.pth \
        --subnet SUBNET.yaml --out subnet.onnx

The ONNX model maps normalised images ``(N, 3, R, R)`` (the data
preprocessor's mean/std already applied) to logits ``(N, classes)``, with
a dynamic batch size. R is the subnet's resolution unless ``--resolution``
says otherwise. After writing, onnxruntime runs the file on random inputs
and its logits are compared with torch's (``--tolerance``, default 1e-4).
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

from mmofa.apis import init_model
from mmofa.engine.static_checkpoint import use_static_model_if_exported
from mmofa.models.task_modules.estimators.runtimes import LogitsOf
from mmofa.utils.checkpoint import load_checkpoint_file
from mmofa.utils.paths import check_writable_file


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='static subnet or supernet config')
    parser.add_argument('checkpoint', help='its weights')
    parser.add_argument('--out', required=True, help='ONNX file to write')
    parser.add_argument(
        '--subnet', help='subnet file (needed for a supernet checkpoint)')
    parser.add_argument('--resolution', type=int, help='input size')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--tolerance', type=float, default=1e-4)
    return parser.parse_args()


def static_model_and_size(args):
    """The static model to export and its input size."""
    cfg = Config.fromfile(args.config)
    # A static checkpoint (export_subnet.py, search) with a supernet config
    # selects its static model.
    use_static_model_if_exported(cfg, args.checkpoint)
    model = init_model(cfg, args.checkpoint)
    resolution = args.resolution
    if hasattr(model, 'export_subnet'):  # a supernet: take one subnet
        if args.subnet is None:
            raise SystemExit(f'{args.checkpoint} is a supernet checkpoint: '
                             'give --subnet SUBNET.yaml')
        model.set_subnet(args.subnet)
        resolution = resolution or model.resolution
        model = model.export_subnet()
    elif args.subnet is not None:
        raise SystemExit(f'{args.checkpoint} holds a static model; --subnet '
                         'applies to supernets only')
    if resolution is None:
        meta = load_checkpoint_file(args.checkpoint).get('meta') or {}
        resolution = (meta.get('subnet') or {}).get('resolution') or 224
    return model.eval(), int(resolution)


def export_onnx(model: nn.Module,
                resolution: int,
                out: Path,
                batch_size: int = 2) -> Path:
    """Write ``model``'s logits as ONNX with a dynamic batch size."""
    example = torch.randn(batch_size, 3, resolution, resolution)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        LogitsOf(model).eval(), (example, ),
        str(out),
        input_names=['images'],
        output_names=['logits'],
        dynamic_shapes=({
            0: torch.export.Dim('batch', min=1, max=1024)
        }, ),
        dynamo=True,
        verbose=False)
    return out


def check_onnx(model: nn.Module, path: Path, resolution: int,
               batch_size: int) -> float:
    """Max |onnxruntime - torch| over random inputs of two batch sizes."""
    import onnxruntime
    session = onnxruntime.InferenceSession(
        str(path), providers=['CPUExecutionProvider'])
    worst = 0.0
    for n in (1, batch_size + 1):
        images = torch.randn(n, 3, resolution, resolution)
        with torch.no_grad():
            expected = model(images, mode='tensor').numpy()
        actual = session.run(None, {'images': images.numpy()})[0]
        if actual.shape != expected.shape:
            raise RuntimeError(f'onnxruntime gave shape {actual.shape}, torch '
                               f'{expected.shape}')
        worst = max(worst, float(np.abs(actual - expected).max()))
    return worst


def check_onnx_packages() -> None:
    """Name what to install when the ONNX packages are missing."""
    missing = []
    for name in ('onnx', 'onnxscript', 'onnxruntime'):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        sys.exit(f'ONNX export needs {", ".join(missing)}: pip install -r '
                 'requirements/optional.txt (or pip install -e ".[optional]";'
                 ' make install does it)')


def main():
    args = parse_args()
    check_onnx_packages()
    check_writable_file(args.out, '--out')
    model, resolution = static_model_and_size(args)
    path = export_onnx(model, resolution, Path(args.out), args.batch_size)
    difference = check_onnx(model, path, resolution, args.batch_size)
    print(f'wrote {path} (input images: N x 3 x {resolution} x {resolution}, '
          f'normalised); onnxruntime vs torch: max |logit difference| = '
          f'{difference:.2e} (tolerance {args.tolerance:g})')
    if not difference <= args.tolerance:
        sys.exit(f'the ONNX model differs from torch by {difference:.2e} > '
                 f'{args.tolerance:g}')


if __name__ == '__main__':
    main()
