# The whole progressive-shrinking schedule of OFA MobileNetV3 w1.0 in one job:
# teacher 180, kernel 125, depth 25 + 125, expand 25 + 125 epochs (605), each
# stage with the official learning rate and warmup. `--resume` continues
# anywhere (stage, constraints, subnets per step, teacher and optimizer state
# come back from the checkpoint). The teacher is the full network at the end
# of the teacher stage (work_dir/teacher_teacher.pth).
_base_ = [
    '../_base_/models/ofa_mbv3_w10.py',
    '../_base_/datasets/imagenet_bs64_ofa.py',
    '../_base_/schedules/ofa_ps_8xb64.py', '../_base_/default_runtime.py'
]

model = dict(resolutions=dict(start=128, stop=224, step=4))

# (name, epochs, warmup, lr at batch 2048, constraints, subnets, reorganize)
stages = [
    ('teacher', 180, 0, 2.6,
     dict(kernel_size=[7], expand_ratio=[6], depth=[4]), 1, None),
    ('kernel', 125, 5, 0.96, dict(expand_ratio=[6], depth=[4]), 1, None),
    ('depth_phase1', 25, 0, 0.08, dict(expand_ratio=[6], depth=[3,
                                                                4]), 2, None),
    ('depth_phase2', 125, 5, 0.24, dict(expand_ratio=[6]), 2, None),
    ('expand_phase1', 25, 0, 0.08, dict(expand_ratio=[4, 6]), 4, 0),
    ('expand_phase2', 125, 5, 0.24, dict(), 4, 1),
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

optim_wrapper = dict(optimizer=dict(lr=stages[0][3]))
param_scheduler = dict(
    type='mmofa.StagedCosineLR',
    stages=[
        dict(
            length=s[1],
            warmup=s[2],
            lr_mult=s[3] / stages[0][3],
            warmup_start=1 / 32) for s in stages
    ],
    convert_to_iter_based=True)
train_cfg = dict(max_epochs=sum(s[1] for s in stages))
