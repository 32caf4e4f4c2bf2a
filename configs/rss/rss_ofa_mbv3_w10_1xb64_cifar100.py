# Random subnet sampling (RSS; "Does Interference Exist When Training a
# Once-for-All Network?", CVPRW 2022) on CIFAR-100 with the OFA MobileNetV3
# search space (kernel 3/5/7, expand 3/4/6, depth 2/3/4): 180 epochs of the
# full network, then 180 epochs drawing random subnets of the whole space
# from the start, per layer, no progressive stages. The paper's setting: 32 px
# images, batch 64 on one GPU, SGD (Nesterov, momentum 0.9) at lr 0.01 with 5
# warmup epochs and a per-iteration cosine schedule, weight decay 3e-5 except
# on BN and biases, dropout 0.1, no label smoothing and no distillation.
_base_ = [
    '../_base_/models/ofa_mbv3_w10.py', '../_base_/datasets/cifar100_bs64.py',
    '../_base_/default_runtime.py'
]

model = dict(
    architecture=dict(
        data_preprocessor={{_base_.data_preprocessor}},
        head=dict(
            num_classes=100,
            loss=dict(_delete_=True, type='CrossEntropyLoss',
                      loss_weight=1.0))))

full_net_epochs = 180
sampling_epochs = 180
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
        type='SGD', lr=0.01, momentum=0.9, nesterov=True, weight_decay=3e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = dict(
    type='mmofa.StagedCosineLR',
    stages=[
        dict(length=full_net_epochs, warmup=5),
        dict(length=sampling_epochs)
    ],
    convert_to_iter_based=True)

train_cfg = dict(
    by_epoch=True,
    max_epochs=full_net_epochs + sampling_epochs,
    val_interval=10)
# The uniform grid at 32 px, each after BN recalibration on 2000 training
# images.
val_cfg = dict(
    type='mmofa.SubnetValLoop',
    subnets=['grid'],
    resolutions=[32],
    calibrate_bn=dict(num_images=2000, batch_size=200))
test_cfg = dict(val_cfg, type='mmofa.SubnetTestLoop')
work_dir = 'work_dirs/rss_ofa_mbv3_w10_1xb64_cifar100'
