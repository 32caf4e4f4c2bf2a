# Evolutionary search on a trained OFA MobileNetV3 w1.0 supernet: a sweep of
# FLOPs limits, candidates (subnet + resolution 128..224) scored by the
# accuracy predictor (configs/ofa/accuracy_predictor_8xb256_in1k.py writes
# it), the official hyperparameters. Per limit: the best subnet's YAML and
# static checkpoint (BN recalibrated); a CSV and a Pareto plot:
#   python tools/search.py configs/ofa/search_flops.py SUPERNET.pth \
#       --work-dir work_dirs/ofa_search
# Without a predictor (test_cfg.predictor=None) every candidate is scored
# by BN recalibration + evaluation on test_dataloader.
_base_ = [
    '../_base_/models/ofa_mbv3_w10.py',
    '../_base_/datasets/imagenet_bs64_ofa.py', '../_base_/default_runtime.py'
]

calibration_dataloader = {{_base_.train_dataloader}}
test_cfg = dict(
    type='mmofa.EvolutionSearchLoop',
    constraints=[dict(flops=f) for f in (150, 200, 250, 300, 400, 500, 600)],
    resolutions=list(range(128, 225, 4)),
    population_size=100,
    generations=500,
    parent_ratio=0.25,
    mutation_ratio=0.5,
    arch_mutate_prob=0.1,
    resolution_mutate_prob=0.5,
    seed=0,
    predictor=dict(
        checkpoint='work_dirs/ofa_predictor/predictor/predictor.pth'),
    calibrate_bn=dict(num_images=2000, batch_size=200),
    calibration_dataloader=calibration_dataloader)
# A search has no training loop.
train_dataloader = None
val_dataloader = None
val_evaluator = None
