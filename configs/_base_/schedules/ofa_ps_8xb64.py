# What every official progressive-shrinking stage shares: SGD with Nesterov,
# weight decay 3e-5 except on BN and biases (transform matrices decay), the
# learning rates of the official runs written for a total batch of 2048
# (32 GPUs x 64) and scaled to the real batch by auto_scale_lr, a
# per-iteration cosine schedule, validation of the uniform grid at 160 and
# 224 px after BN recalibration on 2000 training images.
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.96, momentum=0.9, nesterov=True, weight_decay=3e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
auto_scale_lr = dict(base_batch_size=2048, enable=True)

train_cfg = dict(by_epoch=True, max_epochs=125, val_interval=1)
val_cfg = dict(
    type='mmofa.SubnetValLoop',
    subnets=['grid'],
    resolutions=[160, 224],
    calibrate_bn=dict(num_images=2000, batch_size=200))
test_cfg = dict(
    type='mmofa.SubnetTestLoop',
    subnets=['grid'],
    resolutions=[160, 224],
    calibrate_bn=dict(num_images=2000, batch_size=200))
