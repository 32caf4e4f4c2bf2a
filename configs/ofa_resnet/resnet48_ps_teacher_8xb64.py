# ResNet-48 progressive shrinking, stage 0: the full network (depths 5, 5,
# 8, 5, every ratio 1.0) that later stages distil from. The track's
# baseline starts from a provided pretrained ResNet-48 instead; this trains
# it with Once-for-All's teacher recipe: 180 epochs, lr 2.6 at batch 2048.
# The track uses one size, 224 px (baseline: random resized crop 224 and
# flip; evaluation: resize 256, centre crop 224).
_base_ = [
    '../_base_/models/ofa_resnet48.py',
    '../_base_/datasets/imagenet_bs64_ofa.py',
    '../_base_/schedules/ofa_ps_8xb64.py', '../_base_/default_runtime.py'
]

train_pipeline = [
    dict(type='mmofa.LoadImageFromFile', on_error='raise'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.08, 1.0),
        backend='pillow',
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

custom_hooks = [
    dict(
        type='mmofa.ProgressiveShrinkingHook',
        stages=[
            dict(
                name='teacher',
                constraints=dict(depth=[5, 8], channel_ratio=[1.0]),
                num_subnets=1)
        ])
]

optim_wrapper = dict(optimizer=dict(lr=2.6))
param_scheduler = dict(
    type='mmofa.StagedCosineLR',
    stages=[dict(length=180)],
    convert_to_iter_based=True)
train_cfg = dict(max_epochs=180)
val_cfg = dict(resolutions=[224])
test_cfg = dict(resolutions=[224])
