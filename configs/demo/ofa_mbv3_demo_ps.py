# The demo: the whole progressive-shrinking schedule (teacher, kernel, depth
# phases 1-2, expand phases 1-2) on the bundled demo data with a narrow OFA
# MobileNetV3 (same search space: kernel 3/5/7, expand 3/4/6, depth 2/3/4),
# then BN recalibration and evaluation of subnets. About 7 minutes on 2 CPU
# cores:  python tools/dataset_converters/make_demo_dataset.py data/demo
#         python tools/train.py configs/demo/ofa_mbv3_demo_ps.py
_base_ = [
    '../_base_/models/ofa_mbv3_w10.py', '../_base_/datasets/demo_bs50.py',
    '../_base_/default_runtime.py'
]

model = dict(
    resolutions=[48, 56, 64],
    # Channels-last weights and activations: about 1.4x faster training steps
    # on CPU, the same results up to float rounding.
    channels_last=True,
    architecture=dict(
        data_preprocessor=dict(num_classes=10),
        backbone=dict(base_widths=[8, 8, 16, 16, 24, 32, 40, 128, 256]),
        head=dict(num_classes=10, in_channels=256, topk=(1, ))))

# (name, epochs, warmup, lr, constraints, subnets, reorganize)
stages = [
    ('teacher', 16, 0, 0.1, dict(kernel_size=[7], expand_ratio=[6],
                                 depth=[4]), 1, None),
    ('kernel', 5, 1, 0.05, dict(expand_ratio=[6], depth=[4]), 1, None),
    ('depth_phase1', 2, 0, 0.02, dict(expand_ratio=[6], depth=[3,
                                                               4]), 2, None),
    ('depth_phase2', 3, 1, 0.04, dict(expand_ratio=[6]), 2, None),
    ('expand_phase1', 2, 0, 0.02, dict(expand_ratio=[4, 6]), 4, 0),
    ('expand_phase2', 3, 1, 0.04, dict(), 4, 1),
]
begins = [sum(s[1] for s in stages[:i]) for i in range(len(stages))]

custom_hooks = [
    dict(
        type='mmofa.ProgressiveShrinkingHook',
        teacher_stage='teacher',
        stages=[
            dict(
                name=s[0],
                begin=b,
                constraints=s[4],
                num_subnets=s[5],
                reorganize=s[6]) for s, b in zip(stages, begins)
        ])
]

optim_wrapper = dict(
    optimizer=dict(
        type='SGD',
        lr=stages[0][3],
        momentum=0.9,
        nesterov=True,
        weight_decay=3e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = dict(
    type='mmofa.StagedCosineLR',
    stages=[
        dict(length=s[1], warmup=s[2], lr_mult=s[3] / stages[0][3])
        for s in stages
    ],
    convert_to_iter_based=True)

max_epochs = sum(s[1] for s in stages)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(
    type='mmofa.SubnetValLoop',
    subnets=['max', 'min', dict(type='random', num=3, seed=0)],
    resolutions=[64, 48],
    calibrate_bn=dict(num_images=500, batch_size=100))
test_cfg = dict(val_cfg, type='mmofa.SubnetTestLoop')

default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=2))
work_dir = 'work_dirs/demo_ps'
