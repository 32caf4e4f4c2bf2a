# Search on the demo supernet (configs/demo/ofa_mbv3_demo_ps.py, trained by
# `make demo`): a sweep of three FLOPs limits, every candidate scored by BN
# recalibration + top-1 on the demo val set. A few minutes on 2 CPU cores:
#   python tools/search.py configs/demo/search_demo.py \
#       work_dirs/demo_ps/epoch_31.pth --work-dir work_dirs/demo_search
_base_ = ['./ofa_mbv3_demo_ps.py']

custom_hooks = []
test_cfg = dict(
    _delete_=True,
    type='mmofa.EvolutionSearchLoop',
    constraints=[dict(flops=2.5),
                 dict(flops=4.0),
                 dict(flops=8.0)],
    resolutions=[48, 56, 64],
    population_size=16,
    generations=6,
    calibrate_bn=dict(num_images=500, batch_size=100),
    calibration_dataloader={{_base_.train_dataloader}},
    log_interval=1)
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
val_dataloader = None
val_cfg = None
val_evaluator = None
