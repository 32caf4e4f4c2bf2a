# A narrow OFA ResNet (the ofa_resnet50 space) validated by SubnetValLoop
# on tiny data: max, min, random and the uniform grid, BN recalibrated.
_base_ = [
    '../../configs/_base_/models/ofa_resnet50.py',
    '../../configs/_base_/datasets/imagenet_bs64_ofa.py',
    '../../configs/_base_/default_runtime.py'
]

data_root = '{{$MMOFA_TEST_DATA:data/tiny}}'
model = dict(
    architecture=dict(
        data_preprocessor=dict(num_classes=4),
        backbone=dict(stem_width=16, stage_widths=[32, 48, 64, 96]),
        head=dict(num_classes=4, in_channels=96, topk=(1, ))))

train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    dataset=dict(
        data_root=data_root,
        pipeline=[
            dict(type='mmofa.LoadImageFromFile', on_error='raise'),
            dict(type='RandomResizedCrop', scale=40, backend='pillow'),
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
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
val_cfg = dict(
    type='mmofa.SubnetValLoop',
    subnets=['max', 'min',
             dict(type='random', num=2, seed=0), 'grid'],
    resolutions=[32, 40],
    calibrate_bn=dict(num_images=8, batch_size=4, num_workers=0))
default_hooks = dict(logger=dict(interval=1), checkpoint=None)
train_cfg = dict(by_epoch=True, max_epochs=1)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
test_cfg = dict(val_cfg, type='mmofa.SubnetTestLoop')
