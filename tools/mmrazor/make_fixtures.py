"""Write the MMRazor fixtures of tests/data/mmrazor with MMRazor 1.0 itself.

Runs in MMRazor's own environment (tools/mmrazor/setup_env.sh), never
under mmofa's:

    bash tools/mmrazor/setup_env.sh work_dirs/mmrazor_env
    work_dirs/mmrazor_env/bin/python tools/mmrazor/make_fixtures.py \
        tests/data/mmrazor

The supernet is MMRazor's own OFA MobileNetV3 config
(``nas/mmcls/onceforall/ofa_mobilenet_supernet_32xb64_in1k.py`` from the
mmrazor package), narrowed to channels 8/16 and 5 classes so that every
file stays small; kernel 3-7, expand 3-6, depth 2-4 and SE stay as
MMRazor builds them. Written:

* ``supernet_state_dict.pth``: ``BigNAS.state_dict()`` (prefix
  ``architecture.``, the two channel-mask buffers included).
* ``runner_checkpoint.pth``: what MMEngine's runner saves after training
  that supernet one short epoch with BigNAS (meta, state_dict,
  message_hub, optimizer), pickled under numpy 1.x.
* ``subnet_{a,b}.yaml`` and ``static_subnet_{a,b}.pth``: two subnets as
  MMRazor's ``EvolutionSearchLoop`` saves its best one
  (``export_fix_subnet(slice_weight=True)``, ``convert_fix_subnet``);
  ``a`` keeps the sliced model's keys (``architecture.backbone...``, the
  released checkpoints' layout), ``b`` has them without the prefix.
* ``logits.pth``: the inputs and what MMRazor computed for each file and
  subnet (eval mode), for tests to compare with.
* ``manifest.json``: versions, the narrowed widths and what each file is.
"""
import argparse
import copy
import json
import os
import os.path as osp
import platform
import random

import torch

# The widths of MMRazor's arch_setting['num_out_channels'], narrowed:
# first conv, layer1, layers 2-6, last conv ([min, max, step], min = max).
TINY_OUT_CHANNELS = [[8, 8, 8], [8, 8, 8], [8, 8, 8], [8, 8, 8], [16, 16, 8],
                     [16, 16, 8], [16, 16, 8], [64, 64, 64]]
NUM_CLASSES = 5
# Expand ratios of the official OFA space (MMRazor's also has 5).
OFFICIAL_EXPAND_RATIOS = (3, 4, 6)


def supernet_config():
    import mmrazor
    from mmengine.config import Config
    path = osp.join(
        osp.dirname(mmrazor.__file__), '.mim', 'configs', 'nas', 'mmcls',
        'onceforall', 'ofa_mobilenet_supernet_32xb64_in1k.py')
    model = copy.deepcopy(Config.fromfile(path).model.to_dict())
    # The v1.0.0 config names the mutator ``mutators``; BigNAS of the same
    # release takes ``mutator``.
    if 'mutators' in model:
        model['mutator'] = model.pop('mutators')
    arch = model['architecture']
    arch['backbone']['arch_setting']['num_out_channels'] = TINY_OUT_CHANNELS
    arch['head'].update(
        num_classes=NUM_CLASSES, in_channels=TINY_OUT_CHANNELS[-1][1])
    arch['head']['loss']['num_classes'] = NUM_CLASSES
    return path, model


def randomise_bn(model, generator):
    """Non-trivial BN statistics, so that a wrong BN slice shows."""
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            n = module.running_mean.numel()
            module.running_mean.copy_(torch.randn(n, generator=generator))
            module.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
            module.weight.data.copy_(torch.rand(n, generator=generator) + 0.5)
            module.bias.data.copy_(torch.randn(n, generator=generator) * 0.1)


def official_choices(mutator, rng, resolution):
    """Random choices inside the official OFA space (expand 3/4/6, the SE
    ratio equal to the block's expand ratio, widths at their maximum)."""
    choices = {}
    expand_of = {}
    groups = mutator.search_groups
    for group, mutables in groups.items():
        alias = mutables[0].alias or ''
        if not group.startswith('value_'):
            continue
        candidates = list(mutables[0].choices)
        if alias == 'input_shape':
            choices[group] = [resolution, resolution]
        elif alias.endswith('.expand_ratio'):
            allowed = [c for c in candidates if c in OFFICIAL_EXPAND_RATIOS
                       ] or candidates
            choices[group] = rng.choice(allowed)
            expand_of[alias[:-len('.expand_ratio')]] = choices[group]
        elif not alias.endswith('.expand_ratio_se'):
            choices[group] = rng.choice(candidates)
    for group, mutables in groups.items():
        alias = mutables[0].alias or ''
        if alias.endswith('.expand_ratio_se'):
            choices[group] = expand_of[alias[:-len('.expand_ratio_se')]]
    current = mutator.current_choices
    return {g: choices.get(g, current[g]) for g in current}


def as_input(images):
    return (images.float() - 128) / 64


@torch.no_grad()
def logits_of(classifier, inputs):
    classifier.eval()
    return classifier(inputs, mode='tensor').clone()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    import mmcls
    import mmengine
    import mmrazor
    import numpy as np
    from mmcls.utils import register_all_modules as register_mmcls
    from mmengine import fileio
    from mmrazor.registry import MODELS
    from mmrazor.structures import convert_fix_subnet, export_fix_subnet
    from mmrazor.utils import register_all_modules
    register_all_modules()
    register_mmcls(init_default_scope=False)

    os.makedirs(args.out_dir, exist_ok=True)
    out = lambda name: osp.join(args.out_dir, name)  # noqa: E731
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    rng = random.Random(args.seed)
    config_path, model_cfg = supernet_config()
    model = MODELS.build(model_cfg)
    randomise_bn(model, generator)
    model.eval()
    resolutions = {'max': 128, 'min': 128, 'a': 140, 'b': 128}
    # Stored as bytes (small files); the models see (byte - 128) / 64.
    images = {
        size:
        torch.randint(
            0, 256, (2, 3, size, size), generator=generator, dtype=torch.uint8)
        for size in sorted(set(resolutions.values()))
    }
    inputs = {size: as_input(batch) for size, batch in images.items()}
    logits = {}

    def at(choices, size):
        model.mutator.set_choices(choices)
        return logits_of(model.architecture, inputs[size])

    # The supernet as initialised: its state dict and subnets of it.
    max_choices = dict(model.mutator.max_choices)
    min_choices = dict(model.mutator.min_choices)
    input_group = next(g for g, m in model.mutator.search_groups.items()
                       if m[0].alias == 'input_shape')
    for choices in (max_choices, min_choices):
        choices[input_group] = [128, 128]
    logits['supernet/max'] = at(max_choices, 128)
    logits['supernet/min'] = at(min_choices, 128)
    torch.save(model.state_dict(), out('supernet_state_dict.pth'))

    # Two subnets: MMRazor's YAML and its sliced static model.
    for name in ('a', 'b'):
        size = resolutions[name]
        choices = official_choices(model.mutator, rng, size)
        model.mutator.set_choices(choices)
        logits[f'supernet/{name}'] = logits_of(model.architecture,
                                               inputs[size])
        fix_subnet, static = export_fix_subnet(model, slice_weight=True)
        # As MMRazor's EvolutionSearchLoop saves its best subnet.
        fileio.dump(convert_fix_subnet(fix_subnet), out(f'subnet_{name}.yaml'))
        logits[f'static/{name}'] = logits_of(static.architecture, inputs[size])
        state = static.state_dict() if name == 'a' else \
            static.architecture.state_dict()
        torch.save({
            'state_dict': state,
            'meta': {}
        }, out(f'static_subnet_{name}.pth'))

    # A checkpoint of MMEngine's runner after one SGD step.
    runner_logits = write_runner_checkpoint(model, out, generator, inputs,
                                            max_choices)
    logits['runner/max'] = runner_logits
    torch.save({
        'images': images,
        'logits': logits,
        'resolutions': resolutions
    }, out('logits.pth'))
    manifest = dict(
        made_by='tools/mmrazor/make_fixtures.py',
        config=config_path.split('.mim/configs/')[-1],
        num_out_channels=TINY_OUT_CHANNELS,
        num_classes=NUM_CLASSES,
        seed=args.seed,
        versions=dict(
            python=platform.python_version(),
            torch=torch.__version__,
            numpy=np.__version__,
            mmengine=mmengine.__version__,
            mmcls=mmcls.__version__,
            mmrazor=mmrazor.__version__),
        files={
            'supernet_state_dict.pth':
            'BigNAS.state_dict(): architecture.*, masks included',
            'runner_checkpoint.pth':
            'MMEngine runner, BigNAS, 1 epoch of 2 iterations, SGD',
            'subnet_a.yaml':
            'export_fix_subnet, input_shape 140',
            'subnet_b.yaml':
            'export_fix_subnet, input_shape 128',
            'static_subnet_a.pth':
            'static subnet a, keys architecture.*',
            'static_subnet_b.pth':
            'static subnet b, keys backbone./head.',
            'logits.pth':
            'images per size (uint8; input = (image - 128) / 64), logits '
            'per file and subnet',
        })
    with open(out('manifest.json'), 'w') as file:
        json.dump(manifest, file, indent=2)
    for name in sorted(os.listdir(args.out_dir)):
        print(f'{name:28s} {osp.getsize(out(name)) / 1024:8.1f} KiB')


def write_runner_checkpoint(model, out, generator, inputs, max_choices):
    """Train the supernet one epoch (2 iterations of BigNAS's sandwich
    step) with MMEngine's runner on a folder of 4 images; keep the
    runner's checkpoint."""
    import shutil
    import tempfile

    import numpy as np
    from mmengine.runner import Runner
    from PIL import Image
    with tempfile.TemporaryDirectory() as work_dir:
        data_root = osp.join(work_dir, 'data')
        for index in range(4):
            folder = osp.join(data_root, f'class{index % 2}')
            os.makedirs(folder, exist_ok=True)
            pixels = torch.randint(
                0, 256, (128, 128, 3), generator=generator,
                dtype=torch.uint8).numpy()
            Image.fromarray(np.ascontiguousarray(pixels)).save(
                osp.join(folder, f'{index}.png'))
        runner = Runner(
            model=model,
            work_dir=osp.join(work_dir, 'run'),
            train_dataloader=dict(
                batch_size=2,
                num_workers=0,
                sampler=dict(type='mmengine.DefaultSampler', shuffle=False),
                dataset=dict(
                    type='mmcls.CustomDataset',
                    data_root=data_root,
                    pipeline=[
                        dict(type='mmcls.LoadImageFromFile'),
                        dict(type='mmcls.PackClsInputs')
                    ])),
            train_cfg=dict(by_epoch=True, max_epochs=1),
            optim_wrapper=dict(
                optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
            default_hooks=dict(
                checkpoint=dict(type='CheckpointHook', interval=1)),
            randomness=dict(seed=0),
            default_scope='mmrazor')
        runner.train()
        shutil.copy(
            osp.join(work_dir, 'run', 'epoch_1.pth'),
            out('runner_checkpoint.pth'))
    model.eval()
    model.mutator.set_choices(max_choices)
    return logits_of(model.architecture, inputs[128])


if __name__ == '__main__':
    main()
