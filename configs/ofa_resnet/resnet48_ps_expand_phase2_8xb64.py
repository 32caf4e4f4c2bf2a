# ResNet-48 progressive shrinking, elastic width phase 2: the whole space
# (every depth, ratios 1.0 to 0.7), four subnets per step; middle channels
# sorted first, none crossing the widths of the four ratios of phase 1
# (reorganize=3: the 3 + 1 largest ratios). Once-for-All's expand phase 2:
# 120 + 5 warmup epochs, lr 0.24 at batch 2048.
_base_ = ['./resnet48_ps_depth_phase1_8xb64.py']

load_from = 'work_dirs/resnet48_ps_expand_phase1_8xb64/epoch_25.pth'

custom_hooks = [
    dict(
        type='mmofa.ProgressiveShrinkingHook',
        stages=[dict(name='expand_phase2', num_subnets=4, reorganize=3)])
]

optim_wrapper = dict(optimizer=dict(lr=0.24))
param_scheduler = dict(
    stages=[dict(length=125, warmup=5, warmup_start=1 / 32)])
train_cfg = dict(max_epochs=125)
