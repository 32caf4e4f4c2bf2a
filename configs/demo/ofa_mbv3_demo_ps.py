# The demo: the whole progressive-shrinking schedule (teacher, kernel, depth
# phases 1-2, expand phases 1-2: _base_/schedules/ofa_mbv3_ps_31e.py) on the
# bundled demo data with a narrow OFA MobileNetV3 (same search space: kernel
# 3/5/7, expand 3/4/6, depth 2/3/4), then BN recalibration and evaluation of
# subnets. 3 to 7 minutes on 2 CPU cores:
#   python tools/dataset_converters/make_demo_dataset.py data/demo
#   python tools/train.py configs/demo/ofa_mbv3_demo_ps.py
_base_ = [
    '../_base_/models/ofa_mbv3_w10.py', '../_base_/datasets/demo_bs50.py',
    '../_base_/schedules/ofa_mbv3_ps_31e.py', '../_base_/default_runtime.py'
]

model = dict(
    resolutions=[48, 56, 64],
    # Channels-last weights and activations: about 1.4x faster training steps
    # on CPU, the same results up to float rounding.
    channels_last=True,
    architecture=dict(
        data_preprocessor=dict(num_classes=10),
        backbone=dict(base_widths=[8, 8, 16, 16, 24, 32, 40, 128, 256]),
        head=dict(num_classes=10, in_channels=256, topk=(1, ))))

val_cfg = dict(
    type='mmofa.SubnetValLoop',
    subnets=['max', 'min', dict(type='random', num=3, seed=0)],
    resolutions=[64, 48],
    calibrate_bn=dict(num_images=500, batch_size=100))
test_cfg = dict(val_cfg, type='mmofa.SubnetTestLoop')

default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=2))
work_dir = 'work_dirs/demo_ps'
