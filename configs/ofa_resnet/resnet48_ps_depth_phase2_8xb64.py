# ResNet-48 progressive shrinking, elastic depth phase 2: every depth
# (2-5, stage 3: 2-8), ratios 1.0, two subnets per step. Once-for-All's
# depth phase 2: 120 + 5 warmup epochs, lr 0.24 at batch 2048.
_base_ = ['./resnet48_ps_depth_phase1_8xb64.py']

load_from = 'work_dirs/resnet48_ps_depth_phase1_8xb64/epoch_25.pth'

custom_hooks = [
    dict(
        type='mmofa.ProgressiveShrinkingHook',
        stages=[
            dict(
                name='depth_phase2',
                constraints=dict(channel_ratio=[1.0]),
                num_subnets=2)
        ])
]

optim_wrapper = dict(optimizer=dict(lr=0.24))
param_scheduler = dict(
    stages=[dict(length=125, warmup=5, warmup_start=1 / 32)])
train_cfg = dict(max_epochs=125)
