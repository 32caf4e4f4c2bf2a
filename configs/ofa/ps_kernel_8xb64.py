# Progressive shrinking, elastic kernel: kernel 3/5/7, expand 6, depth 4,
# one subnet per step, distilled from the teacher. 120 + 5 warmup epochs,
# lr 0.96 at batch 2048 (official: 3e-2 per GPU x 32).
_base_ = ['./ps_teacher_8xb64.py']

teacher_checkpoint = 'work_dirs/ps_teacher_8xb64/epoch_180.pth'
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
                name='kernel',
                constraints=dict(expand_ratio=[6], depth=[4]),
                num_subnets=1)
        ])
]

optim_wrapper = dict(optimizer=dict(lr=0.96))
# Warmup from the per-GPU rate (1/32 of the peak), as the official runs.
param_scheduler = dict(
    stages=[dict(length=125, warmup=5, warmup_start=1 / 32)])
train_cfg = dict(max_epochs=125)
