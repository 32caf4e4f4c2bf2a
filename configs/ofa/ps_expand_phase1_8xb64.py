# Progressive shrinking, elastic expand phase 1: expand 4/6, four subnets per
# step; middle channels sorted by importance first (phase 0). 25 epochs,
# lr 0.08 at batch 2048.
_base_ = ['./ps_kernel_8xb64.py']

load_from = 'work_dirs/ps_depth_phase2_8xb64/epoch_125.pth'

custom_hooks = [
    dict(
        type='mmofa.ProgressiveShrinkingHook',
        stages=[
            dict(
                name='expand_phase1',
                constraints=dict(expand_ratio=[4, 6]),
                num_subnets=4,
                reorganize=0)
        ])
]

optim_wrapper = dict(optimizer=dict(lr=0.08))
param_scheduler = dict(stages=[dict(length=25)])
train_cfg = dict(max_epochs=25)
