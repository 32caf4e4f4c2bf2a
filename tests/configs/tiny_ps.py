# A tiny progressive-shrinking run for the tests: a narrow supernet, stages
# teacher (epoch 1), kernel (2), depth (3-4), expand with channel sorting
# (5), random augmentation, dropout, distillation from the teacher.
_base_ = [
    '../../configs/_base_/models/ofa_mbv3_w10.py',
    '../../configs/_base_/datasets/imagenet_bs64_ofa.py',
    '../../configs/_base_/default_runtime.py'
]
custom_imports = dict(imports=['test_support'], allow_failed_imports=False)

data_root = '{{$MMOFA_TEST_DATA:data/tiny}}'
model = dict(
    resolutions=[32, 40],
    architecture=dict(
        data_preprocessor=dict(num_classes=4),
        backbone=dict(base_widths=[8, 8, 8, 16, 16, 24, 24, 64, 96]),
        head=dict(num_classes=4, in_channels=96, topk=(1, ))))

train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        pipeline=[
            dict(type='mmofa.LoadImageFromFile', on_error='raise'),
            dict(type='RandomResizedCrop', scale=40, backend='pillow'),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='PackInputs'),
        ]))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        pipeline=[
            dict(type='mmofa.LoadImageFromFile', on_error='raise'),
            dict(type='mmofa.ResizeCenterCrop', size=40),
            dict(type='PackInputs'),
        ]))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_evaluator = val_evaluator

stages = [
    dict(
        name='teacher',
        begin=0,
        constraints=dict(kernel_size=[7], expand_ratio=[6], depth=[4])),
    dict(
        name='kernel', begin=1, constraints=dict(expand_ratio=[6], depth=[4])),
    dict(
        name='depth',
        begin=2,
        constraints=dict(expand_ratio=[6]),
        num_subnets=2),
    dict(name='expand', begin=4, num_subnets=3, reorganize=1),
]
custom_hooks = [
    dict(
        type='mmofa.ProgressiveShrinkingHook',
        stages=stages,
        teacher_stage='teacher'),
    dict(type='DumpWeightsHook'),
    dict(type='KillHook'),
]

optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=3e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = dict(
    type='mmofa.StagedCosineLR',
    stages=[
        dict(length=1),
        dict(length=1, warmup=0.5),
        dict(length=2, lr_mult=0.5),
        dict(length=1, lr_mult=0.5)
    ],
    convert_to_iter_based=True)
train_cfg = dict(by_epoch=True, max_epochs=5, val_interval=2)
val_cfg = dict(
    type='mmofa.SubnetValLoop',
    subnets=['max', 'min'],
    resolutions=[32],
    calibrate_bn=dict(num_images=8, batch_size=4, num_workers=0))
test_cfg = dict(val_cfg, type='mmofa.SubnetTestLoop')
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=10))
