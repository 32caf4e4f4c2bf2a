# Search a supernet trained by any recipe of configs/custom/ for your device
# (docs/custom_dataset.md): an evolutionary sweep over FLOPs limits (or
# latency, with a table measured on the device:
# tools/analysis/build_latency_table.py), every candidate scored by its
# top-1 on your val set after BN recalibration on your training images.
# The best subnet of each limit is exported to WORK_DIR/search/ (static
# checkpoint with the class names, subnet YAML, config), ready for
# tools/deployment/export_onnx.py.
#   python tools/search.py configs/custom/search_custom.py \
#       work_dirs/custom_transfer/epoch_20.pth \
#       --work-dir work_dirs/custom_search
_base_ = ['./ofa_mbv3_ps.py']

custom_hooks = []
test_cfg = dict(
    _delete_=True,
    type='mmofa.EvolutionSearchLoop',
    # MFLOPs per image at the candidate's resolution.
    constraints=[dict(flops=150), dict(flops=300)],
    resolutions={{_base_.resolutions}},
    population_size=32,
    generations=10,
    calibrate_bn={{_base_.calibrate_bn}},
    calibration_dataloader={{_base_.train_dataloader}},
    log_interval=1)
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
val_dataloader = None
val_cfg = None
val_evaluator = None
work_dir = 'work_dirs/custom_search'
