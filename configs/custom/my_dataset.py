# Your dataset, for every recipe in configs/custom/ (docs/custom_dataset.md).
# Edit the lines up to `num_workers`; the rest follows from them.
#
# data_root holds train/<class>/*.jpg and val/<class>/*.jpg (any image
# type; grayscale images are read as three equal channels). Class names
# are the folder names, sorted; they go into every checkpoint and exported
# subnet. For list files instead of folders, give each dataset
# ann_file='meta/train.txt' (lines `relative/path.jpg label`) and
# metainfo=dict(classes=[...]).
data_root = 'data/my_dataset'
num_classes = 10
# Per-channel RGB mean and std (0-255) of your training images:
#   python tools/analysis/dataset_stats.py data/my_dataset/train
mean = [123.675, 116.28, 103.53]
std = [58.395, 57.12, 57.375]
# Input sizes the supernet trains at and subnets are searched at, in
# pixels; each at least 32 (the network's total stride). For small images,
# sizes at or a little above their own size.
resolutions = [128, 160, 192, 224]
# 0.0 for images whose mirror image means something else (digits, text).
flip_prob = 0.5
# Passes over the training images in one epoch of the schedules: raise it
# for a small dataset, so that one epoch is some hundreds of iterations.
repeat = 1
batch_size = 64
# Processes loading images, per training process.
num_workers = 2

eval_resolutions = [max(resolutions), min(resolutions)]
# The data preprocessor of the models (not named data_preprocessor: the
# runner would give that to the OFA wrapper).
preprocessor = dict(
    num_classes=num_classes, mean=mean, std=std, to_rgb=True)
train_pipeline = [
    dict(type='mmofa.LoadImageFromFile', on_error='raise'),
    dict(
        type='RandomResizedCrop',
        scale=max(resolutions),
        crop_ratio_range=(0.25, 1.0),
        backend='pillow',
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=flip_prob, direction='horizontal'),
    dict(type='PackInputs'),
]
# Resize to ceil(size / 0.875), centre crop; the subnet loops set the size.
test_pipeline = [
    dict(type='mmofa.LoadImageFromFile', on_error='raise'),
    dict(type='mmofa.ResizeCenterCrop', size=max(resolutions),
         crop_ratio=0.875),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=num_workers,
    worker_init_fn=dict(type='mmofa.seed_worker'),
    persistent_workers=False,
    dataset=dict(
        type='RepeatDataset',
        times=repeat,
        dataset=dict(
            _scope_='mmpretrain',
            type='CustomDataset',
            data_root=data_root,
            data_prefix='train',
            pipeline=train_pipeline)),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=2 * batch_size,
    num_workers=num_workers,
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
# Every evaluated subnet gets BN statistics of this many training images.
calibrate_bn = dict(num_images=2000, batch_size=2 * batch_size)
# At the end of training and in tools/test.py: the largest, the smallest
# and three random subnets, at the largest and the smallest size.
val_cfg = dict(
    type='mmofa.SubnetValLoop',
    subnets=['max', 'min', dict(type='random', num=3, seed=0)],
    resolutions=eval_resolutions,
    calibrate_bn=calibrate_bn)
test_cfg = dict(val_cfg, type='mmofa.SubnetTestLoop')
