# Fine-tune a searched (or exported) subnet of the OFA MobileNetV3 w1.0 as a
# static network, starting from its exported checkpoint (supernet weights,
# BN recalibrated), with distillation from the supernet's largest subnet:
# 25 epochs, a small lr, cosine. The first validation (before any step)
# gives the accuracy the search measured.
#   S=work_dirs/ofa_search/search/flops300
#   bash tools/dist_train.sh configs/ofa/finetune_subnet_8xb64_in1k.py 8 \
#       --cfg-options model.subnet=$S/best.yaml load_from=$S/best.pth \
#       model.distillation.teacher.checkpoint=SUPERNET.pth
# Without distillation: model.distillation=None.
_base_ = [
    '../_base_/models/ofa_mbv3_w10.py',
    '../_base_/datasets/imagenet_bs64_ofa.py', '../_base_/default_runtime.py'
]

model = dict(
    _delete_=True,
    type='mmofa.SubnetClassifier',
    supernet={{_base_.model}},
    subnet=None,  # the subnet file (with its resolution)
    distillation=dict(
        teacher=dict(checkpoint=None, subnet='max'),
        loss=dict(type='mmofa.KDLoss', kd_type='ce', loss_weight=1.0)))
custom_hooks = [dict(type='mmofa.ValidateBeforeTrainHook')]

optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.005, momentum=0.9, nesterov=True, weight_decay=3e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
auto_scale_lr = dict(base_batch_size=512, enable=True)
param_scheduler = dict(
    type='CosineAnnealingLR',
    T_max=25,
    by_epoch=True,
    convert_to_iter_based=True)
train_cfg = dict(by_epoch=True, max_epochs=25, val_interval=1)
# The static model is evaluated as it is, at its subnet's resolution.
val_cfg = dict(type='mmofa.SubnetValLoop', calibrate_bn=None)
test_cfg = dict(type='mmofa.SubnetTestLoop', calibrate_bn=None)
