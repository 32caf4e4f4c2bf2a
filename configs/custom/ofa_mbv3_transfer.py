# Once-for-All on your dataset, way 1: transfer (docs/custom_dataset.md).
# Start from a trained OFA MobileNetV3 supernet (an official one, converted:
#   python tools/convert_ofa_ckpt.py ofa_mbv3_d234_e346_k357_w1.0 \
#       checkpoints/ofa_mbv3_w10_supernet.pth
# or any mmofa supernet checkpoint of this architecture), give it a new
# classifier for your classes and fine-tune the whole space at once: the
# supernet is already shrunk, so every dimension (kernel, depth, expand,
# resolution) is sampled from the first step. Each step trains the largest
# subnet on the labels and three more (the smallest, two random) on its
# logits (sandwich sampling, in-place distillation). BN statistics are
# recalibrated on your training images for every subnet evaluated,
# searched or exported.
#   python tools/train.py configs/custom/ofa_mbv3_transfer.py
_base_ = [
    '../_base_/models/ofa_mbv3_w10.py', './my_dataset.py',
    '../_base_/default_runtime.py'
]

load_from = 'checkpoints/ofa_mbv3_w10_supernet.pth'
# A new head: the checkpoint's classifier is not loaded (every other weight
# must fit; a head of another class count is named if it is not excluded).
load_from_exclude = ['architecture.head.fc.*']

model = dict(
    resolutions={{_base_.resolutions}},
    num_subnets=4,
    sampling=dict(strategy='sandwich', granularity='layer'),
    architecture=dict(
        data_preprocessor={{_base_.preprocessor}},
        head=dict(num_classes={{_base_.num_classes}}, topk=(1, ))))

epochs = 20
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.01, momentum=0.9, nesterov=True, weight_decay=3e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = dict(
    type='mmofa.StagedCosineLR',
    stages=[dict(length=epochs, warmup=1)],
    convert_to_iter_based=True)
train_cfg = dict(by_epoch=True, max_epochs=epochs, val_interval=epochs)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2))
work_dir = 'work_dirs/custom_transfer'
