# ResNet-48 progressive shrinking, elastic depth phase 1: depths 4-5 (stage
# 3: 4-8; constraints are per dimension, so stage 3 keeps every depth of 4
# or more), ratios 1.0, two subnets per step, distilled from the teacher.
# Once-for-All's depth phase 1: 25 epochs, lr 0.08 at batch 2048.
_base_ = ['./resnet48_ps_teacher_8xb64.py']

teacher_checkpoint = 'work_dirs/resnet48_ps_teacher_8xb64/epoch_180.pth'
load_from = teacher_checkpoint
model = dict(
    distillation=dict(
        teacher=dict(checkpoint=teacher_checkpoint),
        loss=dict(type='mmofa.KDLoss', kd_type='ce', loss_weight=1.0)))

custom_hooks = [
    dict(
        type='mmofa.ProgressiveShrinkingHook',
        stages=[
            dict(
                name='depth_phase1',
                constraints=dict(depth=[4, 5, 6, 7, 8], channel_ratio=[1.0]),
                num_subnets=2)
        ])
]

optim_wrapper = dict(optimizer=dict(lr=0.08))
param_scheduler = dict(stages=[dict(length=25)])
train_cfg = dict(max_epochs=25)
