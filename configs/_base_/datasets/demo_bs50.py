# The bundled demo data (tools/dataset_converters/make_demo_dataset.py):
# 10 classes of synthetic shapes, 64 px, train/ and val/ class folders.
data_root = 'data/demo'

train_pipeline = [
    dict(type='mmofa.LoadImageFromFile', on_error='raise'),
    dict(
        type='RandomResizedCrop',
        scale=64,
        crop_ratio_range=(0.5, 1.0),
        backend='pillow',
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='mmofa.LoadImageFromFile', on_error='raise'),
    dict(type='mmofa.ResizeCenterCrop', size=64, crop_ratio=0.875),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=50,
    num_workers=1,
    worker_init_fn=dict(type='mmofa.seed_worker'),
    persistent_workers=False,
    dataset=dict(
        _scope_='mmpretrain',
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=100,
    num_workers=1,
    dataset=dict(
        _scope_='mmpretrain',
        type='CustomDataset',
        data_root=data_root,
        data_prefix='val',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
