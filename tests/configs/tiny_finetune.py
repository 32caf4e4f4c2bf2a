# Fine-tune a subnet of the tiny supernet (tiny_ps.py) from its exported
# static checkpoint, with distillation from the supernet's largest subnet.
# Set model.subnet, model.distillation.teacher.checkpoint and load_from.
_base_ = ['./tiny_ps.py']

model = dict(
    _delete_=True,
    type='mmofa.SubnetClassifier',
    supernet={{_base_.model.architecture}},
    subnet=None,
    distillation=dict(teacher=dict(checkpoint=None, subnet='max')))
custom_hooks = [dict(type='mmofa.ValidateBeforeTrainHook')]
optim_wrapper = dict(optimizer=dict(lr=0.001))
param_scheduler = dict(
    _delete_=True, type='CosineAnnealingLR', T_max=1, by_epoch=True)
train_cfg = dict(max_epochs=1, val_interval=1)
val_cfg = dict(_delete_=True, type='mmofa.SubnetValLoop', calibrate_bn=None)
test_cfg = dict(_delete_=True, type='mmofa.SubnetTestLoop', calibrate_bn=None)
