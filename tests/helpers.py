"""Shared helpers of the tests: models with non-trivial weights."""
import random
from pathlib import Path

import torch

from mmofa.apis import init_model

REPO = Path(__file__).resolve().parents[1]
# Dumps of the official OFA code and of MMRazor (origins in its README.md).
REFERENCE = REPO / 'tests' / 'data' / 'reference'
W10_CONFIG = REPO / 'configs/ofa/ofa_mbv3_w10_supernet.py'
W12_CONFIG = REPO / 'configs/ofa/ofa_mbv3_w12_supernet.py'


@torch.no_grad()
def perturb_(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Non-trivial BN statistics and affine terms, non-identity transforms.

    Works on mmofa and official models alike (by parameter names).
    """
    gen = torch.Generator().manual_seed(seed)
    for name, param in model.named_parameters():
        if 'matrix' in name:
            param.add_(torch.randn(param.shape, generator=gen) * 0.1)
        elif param.dim() == 1 and name.endswith('weight'):
            param.copy_(torch.rand(param.shape, generator=gen) + 0.5)
        elif name.endswith('bias'):
            param.copy_(torch.randn(param.shape, generator=gen) * 0.1)
    for name, buffer in model.named_buffers():
        if name.endswith('running_mean'):
            buffer.copy_(torch.randn(buffer.shape, generator=gen) * 0.1)
        elif name.endswith('running_var'):
            buffer.copy_(torch.rand(buffer.shape, generator=gen) * 1.5 + 0.5)
    return model


def build_supernet(config=W10_CONFIG, seed: int = 0):
    """An OFA supernet in eval mode with perturbed weights."""
    torch.manual_seed(seed)
    return perturb_(init_model(config), seed)


def random_subnets(model, count: int, seed: int = 0):
    """Activate ``count`` random subnets of ``model`` in turn, yield each."""
    generator = random.Random(seed)
    for _ in range(count):
        yield model.sample_subnet('random', generator)


def tiny_supernet_cfg(num_classes: int = 4, **ofa_kwargs) -> dict:
    """A small OFA MobileNetV3 (narrow widths) for fast training tests."""
    return dict(
        type='mmofa.OFA',
        architecture=dict(
            _scope_='mmpretrain',
            type='ImageClassifier',
            data_preprocessor=dict(
                num_classes=num_classes,
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                to_rgb=True),
            backbone=dict(
                type='mmofa.OFAMobileNetV3',
                base_widths=[8, 8, 8, 16, 16, 24, 24, 64, 96]),
            head=dict(
                type='mmofa.DropoutLinearClsHead',
                num_classes=num_classes,
                in_channels=96,
                loss=dict(
                    type='LabelSmoothLoss',
                    label_smooth_val=0.1,
                    mode='original'))),
        **ofa_kwargs)


def make_batch(num_images: int,
               size: int,
               num_classes: int = 4,
               seed: int = 0) -> dict:
    """A data batch as a dataloader gives it: uint8 images and labels."""
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(
            0, 256, (3, size, size), generator=gen, dtype=torch.uint8)
        for _ in range(num_images)
    ]
    labels = torch.randint(0, num_classes, (num_images, ), generator=gen)
    samples = [DataSample().set_gt_label(int(label)) for label in labels]
    return dict(inputs=inputs, data_samples=samples)


def make_imagenet_like(root,
                       num_train: int = 8,
                       num_val: int = 4,
                       size: int = 40,
                       num_labels: int = 4,
                       duplicate_pairs: bool = False,
                       seed: int = 0):
    """A tiny dataset in ImageNet's annotation-file layout.

    ``root/train/*.png``, ``root/val/*.png``, ``root/meta/{train,val}.txt``
    (``file label``), labels below 1000, so that the ImageNet configs run
    with only ``data_root`` changed. With ``duplicate_pairs`` image
    ``2k + 1`` repeats image ``2k`` (same label).
    """
    import numpy as np
    from PIL import Image
    rng = np.random.RandomState(seed)
    root = Path(root)
    (root / 'meta').mkdir(parents=True, exist_ok=True)
    for split, count in (('train', num_train), ('val', num_val)):
        (root / split).mkdir(exist_ok=True)
        lines, image, label = [], None, 0
        for i in range(count):
            if not (duplicate_pairs and i % 2 == 1):
                label = int(rng.randint(num_labels))
                image = rng.randint(0, 256, (size, size, 3), dtype=np.uint8)
                image[:, :, label % 3] //= 3  # a little signal per label
            name = f'{i:04d}.png'
            Image.fromarray(image).save(root / split / name)
            lines.append(f'{name} {label}')
        (root / 'meta' / f'{split}.txt').write_text('\n'.join(lines) + '\n')
    return root


def free_port() -> str:
    """A TCP port free on this machine now, for a torchrun master."""
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return str(sock.getsockname()[1])


def run_tool(*args, env=None, check=True, timeout=600):
    """Run a script of the repository in a fresh interpreter."""
    import os
    import subprocess
    import sys
    full_env = dict(os.environ, **(env or {}))
    full_env['PYTHON'] = sys.executable  # for tools/dist_*.sh
    full_env['PYTHONPATH'] = os.pathsep.join(
        [str(REPO / 'tests'),
         str(REPO),
         full_env.get('PYTHONPATH', '')])
    command = [str(a) for a in args]
    if command[0].endswith('.py'):
        command = [sys.executable] + command
    result = subprocess.run(
        command,
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f'{" ".join(command)} failed ({result.returncode}):\n'
            f'{result.stdout[-3000:]}\n{result.stderr[-5000:]}')
    return result


CONFIGS = {1.0: W10_CONFIG, 1.2: W12_CONFIG}


def official_supernet(width_mult: float = 1.0, seed: int = 0, **kwargs):
    """The official OFAMobileNetV3 (pip install ofa) with perturbed weights,
    in eval mode."""
    from ofa.imagenet_classification.elastic_nn.networks import OFAMobileNetV3
    torch.manual_seed(seed)
    options = dict(
        n_classes=1000,
        dropout_rate=0.1,
        width_mult=width_mult,
        ks_list=[3, 5, 7],
        expand_ratio_list=[3, 4, 6],
        depth_list=[2, 3, 4])
    options.update(kwargs)
    return perturb_(OFAMobileNetV3(**options), seed).eval()


def carry_official_weights(official, width_mult: float = 1.0):
    """An mmofa supernet holding the official supernet's weights."""
    from mmofa.utils.official_checkpoint import convert_official_mbv3
    model = init_model(CONFIGS[width_mult])
    state = convert_official_mbv3(official.state_dict(), [4] * 5)
    model.load_state_dict({
        f'architecture.{k}': v
        for k, v in state.items()
    },
                          strict=True)
    return model


# CompOFA: (depth, expand ratio) coupled per stage, fixed kernels per stage.
COMPOFA_EXPAND_OF_DEPTH = {2: 3, 3: 4, 4: 6}
COMPOFA_KERNELS = [3, 5, 3, 3, 5]
COUPLING = dict(
    dims=('depth', 'expand_ratio'), choices=[(2, 3), (3, 4), (4, 6)])


def assert_coupled(subnet):
    """``subnet`` is in the CompOFA space."""
    for stage, depth in enumerate(subnet.depth):
        assert set(
            subnet.expand_ratio[stage]) == {COMPOFA_EXPAND_OF_DEPTH[depth]}
        assert set(subnet.kernel_size[stage]) == {COMPOFA_KERNELS[stage]}


RESNET50_CONFIG = REPO / 'configs/ofa_resnet/ofa_resnet50_supernet.py'
OFA_RESNET50_SPACE = dict(
    depth_list=[0, 1, 2],
    expand_ratio_list=[0.2, 0.25, 0.35],
    width_mult_list=[0.65, 0.8, 1.0])


def official_resnet(n_classes: int = 1000, seed: int = 0):
    """The official OFAResNets of ofa_resnet50 with perturbed weights, in
    eval mode."""
    from ofa.imagenet_classification.elastic_nn.networks import OFAResNets
    torch.manual_seed(seed)
    return perturb_(
        OFAResNets(n_classes=n_classes, **OFA_RESNET50_SPACE), seed).eval()


def resnet_options(num_classes: int) -> dict:
    """cfg_options giving the OFA ResNet50 config ``num_classes``."""
    return {
        'model.architecture.head.num_classes': num_classes,
        'model.architecture.data_preprocessor.num_classes': num_classes
    }


def carry_official_resnet_weights(official, num_classes: int = 1000):
    """An mmofa OFA ResNet50 holding the official supernet's weights."""
    from mmofa.utils.official_checkpoint import convert_official_resnet
    model = init_model(
        RESNET50_CONFIG, cfg_options=resnet_options(num_classes))
    state = convert_official_resnet(official.state_dict())
    model.load_state_dict({
        f'architecture.{k}': v
        for k, v in state.items()
    },
                          strict=True)
    return model


def tiny_resnet_cfg(num_classes: int = 4, **ofa_kwargs) -> dict:
    """A narrow OFA ResNet of the ofa_resnet50 space for fast tests."""
    cfg = tiny_supernet_cfg(num_classes, **ofa_kwargs)
    cfg['architecture']['backbone'] = dict(
        type='mmofa.OFAResNet', stem_width=16, stage_widths=[32, 48, 64, 96])
    cfg['architecture']['head'].update(
        in_channels=96, elastic_in_channels=True)
    return cfg


def direct_statistics(static, batches):
    """Batch-size-weighted mean and biased variance of every BN input,
    computed on the static model in train mode (batch statistics)."""
    import torch.nn as nn
    inputs = {}

    def keep(name):
        return lambda module, args: inputs.setdefault(name, []).append(args[
            0].detach())

    handles = [
        m.register_forward_pre_hook(keep(name))
        for name, m in static.named_modules() if isinstance(m, nn.BatchNorm2d)
    ]
    static.train()
    with torch.no_grad():
        for batch in batches:
            static(batch, mode='tensor')
    for handle in handles:
        handle.remove()
    stats = {}
    total = sum(b.size(0) for b in batches)
    for name, xs in inputs.items():
        mean = sum(x.mean(dim=(0, 2, 3)) * x.size(0) for x in xs) / total
        var = sum((
            (x - x.mean(dim=(0, 2, 3), keepdim=True))**2).mean(dim=(0, 2, 3)) *
                  x.size(0) for x in xs) / total
        stats[name] = (mean, var)
    return stats


def tiny_resnet48_cfg(num_classes: int = 4, **ofa_kwargs) -> dict:
    """The ResNet-48 space of the CVPR 2022 track with narrow widths."""
    cfg = tiny_supernet_cfg(num_classes, **ofa_kwargs)
    cfg['architecture']['backbone'] = dict(
        type='mmofa.OFAResNet48', base_channels=[32, 48, 64, 96])
    cfg['architecture']['head'].update(
        in_channels=96, elastic_in_channels=True)
    return cfg


def tiny_compofa_cfg(num_classes: int = 4, **ofa_kwargs) -> dict:
    """CompOFA's space (coupled depth and expand ratio, fixed kernels) on
    the tiny MobileNetV3."""
    cfg = tiny_supernet_cfg(num_classes, **ofa_kwargs)
    cfg['architecture']['backbone'].update(
        kernel_sizes=[[k] for k in COMPOFA_KERNELS], transform_kernel=False)
    cfg['mutator'] = dict(type='mmofa.OFAMutator', couplings=[COUPLING])
    return cfg


def family_cfgs() -> dict:
    """A small supernet of every family, by name."""
    return dict(
        mobilenet_v3=tiny_supernet_cfg(),
        compofa=tiny_compofa_cfg(),
        resnet50=tiny_resnet_cfg(),
        resnet48=tiny_resnet48_cfg())
