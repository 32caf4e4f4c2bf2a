# Progressive shrinking, elastic depth phase 1: depth 3/4, two subnets per
# step. 25 epochs, lr 0.08 at batch 2048.
_base_ = ['./ps_kernel_8xb64.py']

load_from = 'work_dirs/ps_kernel_8xb64/epoch_125.pth'

custom_hooks = [
    dict(
        type='mmofa.ProgressiveShrinkingHook',
        stages=[
            dict(
                name='depth_phase1',
                constraints=dict(expand_ratio=[6], depth=[3, 4]),
                num_subnets=2)
        ])
]

optim_wrapper = dict(optimizer=dict(lr=0.08))
param_scheduler = dict(stages=[dict(length=25)])
train_cfg = dict(max_epochs=25)
