"""Side-by-side benchmarks of mmofa, printed as tables with ratios.

    python benchmarks/bench_ofa.py                 # everything, CPU
    python benchmarks/bench_ofa.py train_step eval_forward --device cuda --amp
    python benchmarks/bench_ofa.py bn_recalibration --images 400 --profile

Cases (each pair timed interleaved in one process; the peak memory of each
side measured in a process of its own):

* train_step: a progressive-shrinking step of expand phase 2 (4 subnets per
  step, distillation from the full network, batch 32, one size per step
  from 128..224), mmofa's ``OFA.train_step`` vs the official ``ofa`` code
  on the same subnets, sizes and images; one row per memory layout of
  mmofa (``model.channels_last``);
* eval_forward: the supernet with a subnet active vs that subnet exported
  as a static model, at the min, max and a random subnet;
* subnet_train_step: the same pair in a training step (forward, backward,
  optimizer step);
* exported_train_step: ``train_step`` of one subnet (preprocessing, loss,
  backward, optimizer step) in the supernet vs in the config exported with
  it (``SubnetClassifier``), at the min, max and a random subnet;
* bn_recalibration: recalibrating BN over N images (default 2000) vs one
  forward pass over the same images;
* export: ``model.export_subnet()`` vs the official
  ``get_active_subnet(preserve_weight=True)``.

Every process applies ``mmofa.utils.retain_freed_memory()`` first, as
mmofa's tools do (``--default-malloc`` to not). Absolute times depend on
the machine; the ratios are the result.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASES = ('train_step', 'eval_forward', 'subnet_train_step',
         'exported_train_step', 'bn_recalibration', 'export')


# ----------------------------------------------------------------- helpers
def sync(device):
    import torch
    if device == 'cuda':
        torch.cuda.synchronize()


def time_call(function, device):
    sync(device)
    start = time.perf_counter()
    function()
    sync(device)
    return time.perf_counter() - start


def interleaved(baseline, candidate, device, repeat, warmup):
    """Times of both callables, run alternately in one process.

    Returns the median time of each and the median and quartiles of the
    ratio candidate / baseline over consecutive pairs (alternating which
    goes first), which cancels slow drifts of a shared machine.
    """
    for _ in range(warmup):
        baseline()
        candidate()
    base_times, cand_times, ratios = [], [], []
    for i in range(repeat):
        order = ((baseline, base_times), (candidate, cand_times))
        for function, times in (order if i % 2 == 0 else order[::-1]):
            times.append(time_call(function, device))
        ratios.append(cand_times[-1] / base_times[-1])
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 \
        else [ratios[0]] * 3
    return dict(
        baseline=statistics.median(base_times),
        candidate=statistics.median(cand_times),
        ratio=statistics.median(ratios),
        ratio_q1=quartiles[0],
        ratio_q3=quartiles[2])


def peak_memory_mib(device):
    import torch
    if device == 'cuda':
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mmofa_model(args, channels_last=None):
    """The OFA MobileNetV3 w1.0 supernet, channels-last if asked for (by
    default: if ``--channels-last`` was given)."""
    from mmofa.apis import init_model
    if channels_last is None:
        channels_last = args.channels_last
    return init_model(
        str(REPO / 'configs/ofa/ofa_mbv3_w10_supernet.py'),
        device=args.device,
        cfg_options={'model.channels_last': channels_last})


def official_model(device):
    import torch
    from ofa.imagenet_classification.elastic_nn.networks import OFAMobileNetV3
    torch.manual_seed(0)
    return OFAMobileNetV3(
        ks_list=[3, 5, 7], expand_ratio_list=[3, 4, 6],
        depth_list=[2, 3, 4]).to(device)


def subnet_of(name, model):
    import random
    if name in ('max', 'min'):
        return model.sample_subnet(name)
    return model.sample_subnet('random', random.Random(3))


def autocast(args):
    import torch
    return torch.autocast(args.device, enabled=args.amp)


def to_memory_format(tensor, args):
    import torch
    if args.channels_last:
        return tensor.contiguous(memory_format=torch.channels_last)
    return tensor


# ------------------------------------------------------------------- cases
# Each builder returns a callable that runs one measured unit of work.
def build_train_step(args, side, layout):
    """One expand-phase-2 step: mmofa's train_step (its weights and
    activations in ``layout``) or the official code (channels-last only
    with ``--channels-last``), on the same subnets, sizes and images (step
    i of both uses the same)."""
    import torch
    import torch.nn.functional as F
    from mmengine.optim import OptimWrapper
    from mmpretrain.structures import DataSample

    from mmofa.models.utils import resize_batch
    torch.manual_seed(0)
    model = mmofa_model(args, channels_last=layout == 'channels_last')
    model.num_subnets = 4
    model.resolutions = tuple(range(128, 225, 4))
    images = torch.randn(args.batch, 3, 224, 224, device=args.device)
    labels = torch.randint(0, 1000, (args.batch, ), device=args.device)
    total = 2 * (args.warmup + args.repeat)
    steps = [(model.sample_resolution(i), [
        model.dump_subnet(
            model.sample_subnet('random', model.subnet_generator(i, j)),
            'arch_dict') for j in range(4)
    ]) for i in range(total)]
    step = {'n': 0}

    if side == 'mmofa':
        model.set_teacher(model.build_teacher(subnet='max'))
        model.architecture.data_preprocessor.mean.zero_()
        model.architecture.data_preprocessor.std.fill_(1.0)
        model.train()
        optim = OptimWrapper(
            torch.optim.SGD(
                model.parameters(), lr=0.01, momentum=0.9, nesterov=True))
        samples = [DataSample().set_gt_label(int(x)) for x in labels]

        def one_step():
            size, _ = steps[step['n'] % total]
            model._step_count = step['n'] % total
            inputs = resize_batch(images, size)  # the model sets the layout
            with autocast(args):
                model.train_step(
                    dict(inputs=inputs, data_samples=samples), optim)
            step['n'] += 1

        return one_step

    net = official_model(args.device).train()
    teacher = official_model(args.device).train()
    teacher.set_max_net()
    if args.channels_last:
        net.to(memory_format=torch.channels_last)
        teacher.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        net.parameters(), lr=0.01, momentum=0.9, nesterov=True)

    def one_step():
        size, subnets = steps[step['n'] % total]
        inputs = to_memory_format(resize_batch(images, size), args)
        with autocast(args):
            with torch.no_grad():
                soft = F.softmax(teacher(inputs), dim=1)
            net.zero_grad()
            for arch in subnets:
                net.set_active_subnet(ks=arch['ks'], e=arch['e'], d=arch['d'])
                output = net(inputs)
                smooth = torch.full_like(output, 0.1 / 1000).scatter_(
                    1, labels[:, None], 0.9 + 0.1 / 1000)
                log_probs = F.log_softmax(output, dim=1)
                loss = (-smooth * log_probs).sum(1).mean() + \
                    (-soft * log_probs).sum(1).mean()
                loss.backward()
        optimizer.step()
        step['n'] += 1

    return one_step


def build_subnet_pair(args, side, subnet_name, train):
    """Forward (or a training step) of the supernet or the static model."""
    import torch
    torch.manual_seed(0)
    model = mmofa_model(args)
    subnet_of(subnet_name, model)
    net = model if side == 'supernet' else model.export_subnet()
    if args.channels_last:  # the supernet already is
        net.to(memory_format=torch.channels_last)
    x = to_memory_format(
        torch.randn(args.batch, 3, 224, 224, device=args.device), args)
    if not train:
        net.eval()

        def call():
            with torch.no_grad(), autocast(args):
                net(x, mode='tensor')

        return call
    net.train()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def call():
        with autocast(args):
            loss = net(x, mode='tensor').float().logsumexp(1).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    return call


def build_exported_step(args, side, subnet_name):
    """``train_step`` of one subnet: in the supernet (``OFA``, the subnet
    fixed, one per step) or in its exported config
    (``mmofa.SubnetClassifier``, what ``save_subnet`` writes), both with
    the data preprocessor, label-smoothed loss, backward and SGD step, the
    same memory layout (``--channels-last``) and images."""
    import torch
    from mmengine.optim import OptimWrapper
    from mmpretrain.structures import DataSample

    from mmofa.engine.static_checkpoint import static_subnet_config
    from mmofa.registry import MODELS
    torch.manual_seed(0)
    model = mmofa_model(args)
    subnet = subnet_of(subnet_name, model)
    if side == 'supernet':
        net = model
        model.sample_training_subnet = lambda iteration, index: None
    else:
        cfg = static_subnet_config(model.cfg, model.export_subnet_config(),
                                   model.dump_subnet(subnet))
        net = MODELS.build(cfg.model).to(args.device)
        net.load_state_dict(model.export_subnet().state_dict())
    net.train()
    optim = OptimWrapper(
        torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9))
    gen = torch.Generator().manual_seed(0)
    batch = dict(
        inputs=[
            torch.randint(
                0, 256, (3, 224, 224), generator=gen, dtype=torch.uint8)
            for _ in range(args.batch)
        ],
        data_samples=[
            DataSample().set_gt_label(i % 1000) for i in range(args.batch)
        ])

    def call():
        with autocast(args):
            net.train_step(batch, optim)

    return call


def build_bn(args, side, _):
    """BN recalibration over N images, or one forward pass over them."""
    import torch

    from mmofa.models.utils import recalibrate_bn
    torch.manual_seed(0)
    model = mmofa_model(args).eval()
    subnet_of('random', model)
    batch = min(200, args.images)
    batches = [
        to_memory_format(
            torch.randn(batch, 3, 224, 224, device=args.device), args)
        for _ in range(max(1, args.images // batch))
    ]
    if side == 'recalibrate':

        def call():
            with autocast(args):
                recalibrate_bn(model, batches)

        return call

    def call():
        with torch.no_grad(), autocast(args):
            for x in batches:
                model(x, mode='tensor')

    return call


def build_export(args, side, _):
    """Export of the same random subnet by either implementation."""
    import torch
    torch.manual_seed(0)
    model = mmofa_model(args)
    subnet = subnet_of('random', model)
    if side == 'mmofa':
        return model.export_subnet
    arch = model.dump_subnet(subnet, 'arch_dict')
    net = official_model(args.device)
    net.set_active_subnet(ks=arch['ks'], e=arch['e'], d=arch['d'])
    return lambda: net.get_active_subnet(True)


# case: (baseline side, candidate side, builder(args, side, variant),
#        variants (one table row each), target, title)
SUBNETS = ('min', 'max', 'random')
COMPARISONS = {
    'train_step':
    ('official', 'mmofa', build_train_step, ('contiguous', 'channels_last'),
     0.90, 'PS training step (expand phase 2, 4 subnets, KD, 128-224 px); '
     'rows: the layout of mmofa (model.channels_last)'),
    'eval_forward':
    ('static', 'supernet',
     lambda a, side, sub: build_subnet_pair(a, side, sub, False), SUBNETS,
     1.05, 'eval forward at 224 px: supernet with the subnet active vs the '
     'exported static model'),
    'subnet_train_step':
    ('static', 'supernet',
     lambda a, side, sub: build_subnet_pair(a, side, sub, True), SUBNETS, 1.10,
     'training step of one subnet at 224 px: supernet vs exported '
     'static model'),
    'exported_train_step':
    ('supernet', 'exported', build_exported_step, SUBNETS, 1.00,
     'train_step of one subnet at 224 px: in the supernet vs in its '
     'exported config (SubnetClassifier), same layout and data'),
    'bn_recalibration':
    ('forward', 'recalibrate', build_bn, ('random', ), 1.10,
     'BN recalibration of a random subnet vs one forward pass over the same '
     'images'),
    'export': ('official', 'mmofa', build_export, ('random', ), None,
               'subnet export: mmofa export_subnet vs official '
               'get_active_subnet'),
}


def run_case(args):
    """Inside a subprocess: a timing (both sides interleaved) or the peak
    memory of one side; printed as JSON."""
    kind, case, side, variant = args.case.split(':')
    if not args.default_malloc:  # as mmofa's tools do (env_cfg)
        from mmofa.utils import retain_freed_memory
        retain_freed_memory()
    if kind == 'time':
        base_side, cand_side = COMPARISONS[case][:2]
        # A recalibration pair takes about a minute on a 2-core CPU.
        repeat = min(3, args.repeat) if case == 'bn_recalibration' \
            else args.repeat
        warmup = 1 if case == 'bn_recalibration' else args.warmup
        build = COMPARISONS[case][2]
        sides = {
            side: build(args, side, variant)
            for side in (base_side, cand_side)
        }
        result = interleaved(sides[base_side], sides[cand_side], args.device,
                             repeat, warmup)
        if args.profile:
            for side, function in sides.items():
                print_profile(f'{case} {variant}: {side}', function,
                              args.device)
    else:
        function = COMPARISONS[case][2](args, side, variant)
        function()
        function()
        result = dict(peak_mib=peak_memory_mib(args.device))
    print('RESULT ' + json.dumps(result))


def print_profile(title, function, device):
    """The ten ops with the most self time in one call of ``function``."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU]
    if device == 'cuda':
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        function()
    key = 'self_cuda_time_total' if device == 'cuda' else \
        'self_cpu_time_total'
    print(f'profile of {title}')
    print(prof.key_averages().table(sort_by=key, row_limit=10))


# ----------------------------------------------------------------- driver
def measure(spec, args):
    command = [sys.executable, __file__, '--case', spec] + [
        f'--{k.replace("_", "-")}={v}' for k, v in vars(args).items()
        if k in ('device', 'batch', 'repeat', 'warmup', 'images')
    ] + [
        f'--{flag.replace("_", "-")}'
        for flag in ('amp', 'channels_last', 'default_malloc', 'profile')
        if getattr(args, flag)
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=dict(os.environ, PYTHONWARNINGS='ignore'))
    for line in result.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
        if args.profile:
            print(line)
    raise RuntimeError(f'{spec} failed:\n{result.stderr[-3000:]}')


def report(case, rows):
    base_side, cand_side, _, _, target, title = COMPARISONS[case]
    print(f'\n{title}')
    header = (f'{"case":<22} {base_side + " ms":>13} {cand_side + " ms":>15} '
              f'{"ratio [q1, q3]":>22} {"peak MiB (b/c)":>15}  target')
    print(header)
    print('-' * len(header))
    for label, timing, memory in rows:
        spread = (f'{timing["ratio"]:.3f} [{timing["ratio_q1"]:.3f}, '
                  f'{timing["ratio_q3"]:.3f}]')
        peaks = f'{memory[0]:.0f}/{memory[1]:.0f}'
        goal = '-' if target is None else f'<= {target:.2f}'
        print(f'{label:<22} {timing["baseline"] * 1e3:>13.1f} '
              f'{timing["candidate"] * 1e3:>15.1f} {spread:>22} '
              f'{peaks:>15}  {goal}')


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[2:]))
    parser.add_argument('cases', nargs='*', help=f'any of {list(CASES)}')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--amp', action='store_true')
    parser.add_argument(
        '--channels-last',
        action='store_true',
        help='run every model channels-last (the official one too)')
    parser.add_argument(
        '--default-malloc',
        action='store_true',
        help="keep glibc's default allocator settings instead of the "
        "retain_freed_memory() that mmofa's tools apply (both sides)")
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument(
        '--repeat', type=int, default=20, help='measured pairs per comparison')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument(
        '--images',
        type=int,
        default=2000,
        help='images of the BN recalibration case')
    parser.add_argument(
        '--profile',
        action='store_true',
        help='also print the top ops (torch.profiler) of each side of each '
        'row, to see where the time goes')
    parser.add_argument('--case', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        return run_case(args)
    cases = args.cases or list(CASES)
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f'unknown cases {unknown}; allowed: {list(CASES)}')

    import platform

    import torch
    print(f'mmofa benchmarks: {platform.machine()}, {os.cpu_count()} CPUs, '
          f'{torch.get_num_threads()} threads, torch {torch.__version__}, '
          f'device {args.device}, batch {args.batch}, amp {args.amp}, '
          f'channels_last {args.channels_last}, retain_freed_memory '
          f'{not args.default_malloc}, {args.repeat} interleaved pairs per '
          f'row ({min(3, args.repeat)} for BN recalibration)')
    for case in CASES:
        if case not in cases:
            continue
        rows = []
        for variant in COMPARISONS[case][3]:
            timing = measure(f'time:{case}:-:{variant}', args)
            memory = [
                measure(f'memory:{case}:{side}:{variant}', args)['peak_mib']
                for side in COMPARISONS[case][:2]
            ]
            rows.append((variant, timing, memory))
        report(case, rows)


if __name__ == '__main__':
    main()
