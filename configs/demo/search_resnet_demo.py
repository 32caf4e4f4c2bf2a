# Search on the ResNet demo supernet (configs/demo/ofa_resnet_demo_ps.py):
# a sweep of three FLOPs limits over the OFA ResNet50 space (depth, expand
# ratio, width multipliers, resolution), every candidate scored by BN
# recalibration + top-1 on the demo val set:
#   python tools/search.py configs/demo/search_resnet_demo.py \
#       work_dirs/demo_resnet_ps/epoch_28.pth \
#       --work-dir work_dirs/demo_resnet_search
_base_ = ['./ofa_resnet_demo_ps.py']

custom_hooks = []
test_cfg = dict(
    _delete_=True,
    type='mmofa.EvolutionSearchLoop',
    # MFLOPs: the space spans 3.6-14.9 at 48 px, 6.2-25.7 at 64 px.
    constraints=[dict(flops=6.0),
                 dict(flops=10.0),
                 dict(flops=16.0)],
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
