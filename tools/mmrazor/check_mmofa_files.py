"""Load files mmofa wrote for MMRazor (tools/mmrazor/write_for_mmrazor.py)
into MMRazor 1.0 itself and compare its logits with mmofa's.

Runs in MMRazor's environment (tools/mmrazor/setup_env.sh):

    python tools/mmrazor/write_for_mmrazor.py work_dirs/for_mmrazor
    work_dirs/mmrazor_env/bin/python tools/mmrazor/check_mmofa_files.py \
        work_dirs/for_mmrazor

The supernet is loaded strictly into MMRazor's OFA supernet; each subnet
is built as MMRazor's ``ofa_mobilenet_subnet_8xb256_in1k.py`` builds it
(``sub_model`` with the YAML and ``init_cfg`` ``Pretrained`` with
``prefix='architecture.'``), and its checkpoint is loaded strictly once
more to show that no key is missing or left over. Exit 1 if any logit
differs by more than ``--tolerance``.
"""
import argparse
import copy
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(__file__))
from make_fixtures import supernet_config  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('files')
    parser.add_argument('--tolerance', type=float, default=1e-5)
    args = parser.parse_args()

    from mmcls.utils import register_all_modules as register_mmcls
    from mmrazor.registry import MODELS, sub_model
    from mmrazor.utils import register_all_modules
    register_all_modules()
    register_mmcls(init_default_scope=False)

    path = lambda name: osp.join(args.files, name)  # noqa: E731
    reference = torch.load(path('logits.pth'))
    inputs = {
        size: (images.float() - 128) / 64
        for size, images in reference['images'].items()
    }
    rows, worst = [], 0.0

    def compare(name, net, size):
        nonlocal worst
        net.eval()
        with torch.no_grad():
            got = net(inputs[size], mode='tensor')
        error = float((got - reference['logits'][name]).abs().max())
        worst = max(worst, error)
        rows.append((name, size, error))

    _, model_cfg = supernet_config()
    # MMRazor's builders change the config they are given: copies.
    supernet = MODELS.build(copy.deepcopy(model_cfg))
    state = torch.load(path('supernet.pth'))['state_dict']
    supernet.load_state_dict(state, strict=True)
    supernet.mutator.set_max_choices()
    input_group = next(g for g, m in supernet.mutator.search_groups.items()
                       if m[0].alias == 'input_shape')
    choices = dict(supernet.mutator.current_choices)
    choices[input_group] = [128, 128]
    supernet.mutator.set_choices(choices)
    compare('supernet/max', supernet.architecture, 128)

    for name, size in (('a', 140), ('b', 128)):
        checkpoint = path(f'subnet_{name}.pth')
        subnet = sub_model(
            cfg=copy.deepcopy(model_cfg['architecture']),
            fix_subnet=path(f'subnet_{name}.yaml'),
            init_cfg=dict(
                type='Pretrained',
                checkpoint=checkpoint,
                prefix='architecture.'))
        weights = torch.load(checkpoint)['state_dict']
        subnet.load_state_dict(
            {
                k[len('architecture.'):]: v
                for k, v in weights.items()
            },
            strict=True)
        compare(f'subnet/{name}', subnet, size)

    print('file / subnet      size  max |MMRazor - mmofa|')
    for name, size, error in rows:
        print(f'{name:18s} {size:4d}  {error:.3g}')
    print(f'worst {worst:.3g} (tolerance {args.tolerance:g})')
    sys.exit(0 if worst <= args.tolerance else 1)


if __name__ == '__main__':
    main()
