# ResNet-48 progressive shrinking, elastic width phase 1: every depth, the
# four largest ratios (1.0, 0.95, 0.9, 0.85) of every conv, four subnets per
# step; middle channels sorted by importance first (phase 0). Once-for-All's
# expand phase 1: 25 epochs, lr 0.08 at batch 2048.
_base_ = ['./resnet48_ps_depth_phase1_8xb64.py']

load_from = 'work_dirs/resnet48_ps_depth_phase2_8xb64/epoch_125.pth'

custom_hooks = [
    dict(
        type='mmofa.ProgressiveShrinkingHook',
        stages=[
            dict(
                name='expand_phase1',
                constraints=dict(channel_ratio=[0.85, 0.9, 0.95, 1.0]),
                num_subnets=4,
                reorganize=0)
        ])
]

optim_wrapper = dict(optimizer=dict(lr=0.08))
param_scheduler = dict(stages=[dict(length=25)])
train_cfg = dict(max_epochs=25)
