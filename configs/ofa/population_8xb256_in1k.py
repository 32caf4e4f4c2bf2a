# Population analysis of a trained OFA MobileNetV3 w1.0 supernet (as in
# RSS): 100 random subnets at 224 px, each BN recalibrated on 2000 training
# images and evaluated on ImageNet val; accuracy against MFLOPs.
#   TOOL=analysis/eval_population.py bash tools/dist_test.sh \
#       configs/ofa/population_8xb256_in1k.py SUPERNET.pth 8 \
#       --work-dir work_dirs/ofa_population
# Other populations from the command line: --flops-buckets 200 300 400
# --tolerance 0.5 --per-bucket 10, or --subnets FILE (docs/analysis.md).
_base_ = [
    '../_base_/models/ofa_mbv3_w10.py',
    '../_base_/datasets/imagenet_bs64_ofa.py', '../_base_/default_runtime.py'
]

test_cfg = dict(
    type='mmofa.SubnetPopulationLoop',
    population=dict(type='random', num=100, seed=0),
    resolutions=[224],
    score_key='accuracy/top1',
    calibrate_bn=dict(num_images=2000, batch_size=200),
    calibration_dataloader={{_base_.train_dataloader}},
    save_interval=10)
# An evaluation has no training loop.
train_dataloader = None
val_dataloader = None
val_evaluator = None
