"""Write mmofa files for MMRazor and the logits mmofa computes for them,
for tools/mmrazor/check_mmofa_files.py to load in MMRazor's environment.

Runs under mmofa:

    python tools/mmrazor/write_for_mmrazor.py work_dirs/for_mmrazor

Written: ``supernet.pth`` (a training checkpoint with numpy 2 values,
published by ``tools/publish_checkpoint.py --format mmrazor``),
``subnet_{a,b}.pth`` and ``.yaml`` (as ``tools/export_subnet.py --format
mmrazor`` writes them), ``logits.pth`` (images and mmofa's logits). The
supernet is the narrow one of tests/configs/mmrazor_tiny.py (the widths of
make_fixtures.py) with its own initialisation, BN randomised by
make_fixtures.randomise_bn.
"""
import argparse
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from make_fixtures import randomise_bn  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / 'tests/configs/mmrazor_tiny.py'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir')
    parser.add_argument('--config', default=str(CONFIG))
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args()

    from mmofa.apis import init_model, save_subnet_for_mmrazor
    from mmofa.utils.checkpoint import save_checkpoint_file
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    model = init_model(args.config)
    randomise_bn(model, generator)
    images = {
        size:
        torch.randint(
            0, 256, (2, 3, size, size), generator=generator, dtype=torch.uint8)
        for size in (128, 140)
    }
    logits = {}

    def forward(net, size):
        with torch.no_grad():
            return net((images[size].float() - 128) / 64, mode='tensor')

    model.mutator.set_choices(model.mutator.sample_choices('max'))
    logits['supernet/max'] = forward(model.architecture, 128)
    # A checkpoint as training leaves it (numpy 2 values in meta), then
    # published for MMRazor as a user would.
    training = out / 'training_checkpoint.pth'
    save_checkpoint_file(
        dict(
            state_dict=model.state_dict(),
            meta=dict(epoch=1, seed=np.int64(0), loss=np.float64(1.5)),
            numpy_state=np.random.default_rng(0).bit_generator.state),
        training)
    subprocess.run([
        sys.executable,
        str(REPO / 'tools/publish_checkpoint.py'),
        str(training),
        str(out / 'supernet.pth'), '--no-hash', '--format', 'mmrazor'
    ],
                   check=True)
    training.unlink()
    rng = random.Random(args.seed)
    for name, size in (('a', 140), ('b', 128)):
        subnet = model.sample_subnet('random', rng).with_resolution(size)
        model.set_subnet(subnet)
        logits[f'subnet/{name}'] = forward(model.architecture, size)
        save_subnet_for_mmrazor(model, out / f'subnet_{name}.pth')
    torch.save(dict(images=images, logits=logits), out / 'logits.pth')
    print(f'wrote {sorted(p.name for p in out.iterdir())} to {out}')


if __name__ == '__main__':
    main()
