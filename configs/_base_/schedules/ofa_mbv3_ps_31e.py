# A short progressive-shrinking schedule for OFA MobileNetV3, all stages in
# one job: teacher (the full network), kernel, depth phases 1-2, expand
# phases 1-2 (channels sorted before each expand phase), 31 epochs in all,
# with the learning rate, warmup and subnets per step of each stage. Used by
# the demo and configs/custom/ofa_mbv3_ps.py; on a dataset of another size,
# keep the epochs and set how many passes over the images one epoch makes
# (RepeatDataset's `times`, docs/custom_dataset.md).
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
