# Progressive shrinking, stage 0: the full network (kernel 7, expand 6,
# depth 4) that later stages distil from. 180 epochs, lr 2.6 at batch 2048.
_base_ = [
    '../_base_/models/ofa_mbv3_w10.py',
    '../_base_/datasets/imagenet_bs64_ofa.py',
    '../_base_/schedules/ofa_ps_8xb64.py', '../_base_/default_runtime.py'
]

# One size per batch from 128..224 (step 4), the same on every rank.
model = dict(resolutions=dict(start=128, stop=224, step=4))

custom_hooks = [
    dict(
        type='mmofa.ProgressiveShrinkingHook',
        stages=[
            dict(
                name='teacher',
                constraints=dict(kernel_size=[7], expand_ratio=[6], depth=[4]),
                num_subnets=1)
        ])
]

optim_wrapper = dict(optimizer=dict(lr=2.6))
param_scheduler = dict(
    type='mmofa.StagedCosineLR',
    stages=[dict(length=180)],
    convert_to_iter_based=True)
train_cfg = dict(max_epochs=180)
