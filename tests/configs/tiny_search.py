# A tiny search for the tests: the tiny supernet of tiny_ps.py, a sweep of
# two FLOPs limits, candidates scored by real evaluation (BN recalibrated).
_base_ = ['./tiny_ps.py']

custom_hooks = []
calibration = dict(num_images=8, batch_size=4, num_workers=0)
test_cfg = dict(
    _delete_=True,
    type='mmofa.EvolutionSearchLoop',
    constraints=[dict(flops=0.8), dict(flops=1.5)],
    resolutions=[32, 40],
    population_size=8,
    generations=3,
    calibrate_bn=calibration,
    calibration_dataloader={{_base_.train_dataloader}},
    save_interval=1,
    log_interval=1)
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
val_dataloader = None
val_cfg = None
val_evaluator = None
