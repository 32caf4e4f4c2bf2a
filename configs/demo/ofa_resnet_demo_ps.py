# The ResNet demo: a narrow OFA ResNet50 (the official space: depth 0/1/2,
# expand 0.2/0.25/0.35, width 0.65/0.8/1.0, ResNet-D) trained in one job on
# the bundled demo data: the full network, then depth, expand ratio and
# width shrunk in turn (channels sorted before the expand stages), then BN
# recalibration and evaluation of subnets; search it with
# configs/demo/search_resnet_demo.py.
#   python tools/dataset_converters/make_demo_dataset.py data/demo
#   python tools/train.py configs/demo/ofa_resnet_demo_ps.py
_base_ = [
    '../_base_/models/ofa_resnet50.py', '../_base_/datasets/demo_bs50.py',
    '../_base_/default_runtime.py'
]

model = dict(
    resolutions=[48, 56, 64],
    channels_last=True,
    architecture=dict(
        data_preprocessor=dict(num_classes=10),
        backbone=dict(stem_width=32, stage_widths=[64, 96, 128, 192]),
        head=dict(num_classes=10, in_channels=192, topk=(1, ))))

# (name, epochs, warmup, lr, constraints, subnets, reorganize)
stages = [
    ('teacher', 16, 0, 0.05,
     dict(depth=[2], expand_ratio=[0.35], width_mult=[1.0]), 1, None),
    ('depth', 4, 1, 0.02, dict(expand_ratio=[0.35],
                               width_mult=[1.0]), 2, None),
    ('expand', 4, 1, 0.02, dict(width_mult=[1.0]), 2, 0),
    ('width', 4, 1, 0.02, dict(), 3, 1),
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
    subnets=['max', 'min', dict(type='random', num=2, seed=0)],
    resolutions=[64, 48],
    calibrate_bn=dict(num_images=500, batch_size=100))
test_cfg = dict(val_cfg, type='mmofa.SubnetTestLoop')

default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=2))
work_dir = 'work_dirs/demo_resnet_ps'
