# Progressive shrinking, elastic expand phase 2: expand 3/4/6, four subnets
# per step; channels sorted first (phase 1: the e=6 tail stays behind the e=4
# width). 120 + 5 warmup epochs, lr 0.24 at batch 2048.
_base_ = ['./ps_kernel_8xb64.py']

load_from = 'work_dirs/ps_expand_phase1_8xb64/epoch_25.pth'

custom_hooks = [
    dict(
        type='mmofa.ProgressiveShrinkingHook',
        stages=[dict(name='expand_phase2', num_subnets=4, reorganize=1)])
]

optim_wrapper = dict(optimizer=dict(lr=0.24))
param_scheduler = dict(
    stages=[dict(length=125, warmup=5, warmup_start=1 / 32)])
train_cfg = dict(max_epochs=125)
