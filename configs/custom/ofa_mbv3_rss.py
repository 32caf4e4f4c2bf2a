# Once-for-All on your dataset, way 3, for small budgets: random subnet
# sampling (RSS, docs/custom_dataset.md): the full network, then random
# subnets of the whole space from the first sampling step, one per step, no
# progressive stages and no distillation; about the cost of training the
# full network alone for `full_net_epochs + sampling_epochs`. CompOFA's
# coupled space (expand ratio and depth grow together, far fewer subnets)
# trains the same way: use '../_base_/models/compofa_mbv3_w10.py' as the
# model below.
#   python tools/train.py configs/custom/ofa_mbv3_rss.py
_base_ = [
    '../_base_/models/ofa_mbv3_w10.py', './my_dataset.py',
    '../_base_/default_runtime.py'
]

model = dict(
    resolutions={{_base_.resolutions}},
    architecture=dict(
        data_preprocessor={{_base_.preprocessor}},
        head=dict(
            num_classes={{_base_.num_classes}},
            loss=dict(_delete_=True, type='CrossEntropyLoss',
                      loss_weight=1.0),
            topk=(1, ))))

full_net_epochs = 10
sampling_epochs = 21
custom_hooks = [
    dict(
        type='mmofa.RandomSubnetSamplingHook',
        full_net_epochs=full_net_epochs,
        num_subnets=1,
        granularity='layer',
        distill=False)
]
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.05, momentum=0.9, nesterov=True, weight_decay=3e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = dict(
    type='mmofa.StagedCosineLR',
    stages=[
        dict(length=full_net_epochs, warmup=1),
        dict(length=sampling_epochs, warmup=1)
    ],
    convert_to_iter_based=True)
max_epochs = full_net_epochs + sampling_epochs
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2))
work_dir = 'work_dirs/custom_rss'
