# ImageNet with Once-for-All's augmentation: random resized crop (scale
# 0.08-1), flip, 'tf' colour distortion; the batch is resized to the size of
# the step by the OFA model. Evaluation: resize to ceil(s / 0.875), centre
# crop s (mmofa.ResizeCenterCrop, set per resolution by SubnetValLoop).
# data_root holds train/ and val/ class folders (or give ann_file).
dataset_type = 'ImageNet'
data_root = 'data/imagenet'

train_pipeline = [
    dict(type='mmofa.LoadImageFromFile', on_error='raise'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.08, 1.0),
        backend='pillow',
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=32 / 255, saturation=0.5),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='mmofa.LoadImageFromFile', on_error='raise'),
    dict(type='mmofa.ResizeCenterCrop', size=224, crop_ratio=0.875),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    # Worker seeds follow the main process (restored on resume).
    worker_init_fn=dict(type='mmofa.seed_worker'),
    persistent_workers=False,
    dataset=dict(
        _scope_='mmpretrain',
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    dataset=dict(
        _scope_='mmpretrain',
        type=dataset_type,
        data_root=data_root,
        split='val',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
