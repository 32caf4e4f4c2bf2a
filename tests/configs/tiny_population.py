# A tiny population evaluation for the tests: the tiny supernet of
# tiny_ps.py, 6 random subnets at 32 px, each BN recalibrated on 8 images.
_base_ = ['./tiny_ps.py']

custom_hooks = []
test_cfg = dict(
    _delete_=True,
    type='mmofa.SubnetPopulationLoop',
    population=dict(type='random', num=6, seed=0),
    resolutions=[32],
    calibrate_bn=dict(num_images=8, batch_size=4, num_workers=0),
    calibration_dataloader={{_base_.train_dataloader}},
    save_interval=2)
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
val_dataloader = None
val_cfg = None
val_evaluator = None
