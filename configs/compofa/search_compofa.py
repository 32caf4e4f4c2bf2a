# Evolutionary search on a trained CompOFA supernet (compofa_mbv3_w10_phase2):
# the coupled space (243 subnets per resolution, every candidate drawn,
# mutated and crossed over in it), a sweep of FLOPs limits, candidates
# scored by an accuracy predictor (the official MobileNetV3 encoding; build
# one with configs/ofa/accuracy_predictor_8xb256_in1k.py on this supernet)
# or by evaluation (test_cfg.predictor=None):
#   python tools/search.py configs/compofa/search_compofa.py SUPERNET.pth \
#       --work-dir work_dirs/compofa_search
_base_ = [
    '../_base_/models/compofa_mbv3_w10.py',
    '../_base_/datasets/imagenet_bs64_ofa.py', '../_base_/default_runtime.py'
]

test_cfg = dict(
    type='mmofa.EvolutionSearchLoop',
    # MFLOPs: 65-230 at 160 px, 124-447 at 224 px.
    constraints=[dict(flops=f) for f in (150, 200, 250, 300, 400)],
    resolutions=list(range(160, 225, 16)),
    population_size=100,
    generations=500,
    seed=0,
    predictor=dict(
        checkpoint='work_dirs/compofa_predictor/predictor/predictor.pth'),
    calibrate_bn=dict(num_images=2000, batch_size=200),
    calibration_dataloader={{_base_.train_dataloader}})
train_dataloader = None
val_dataloader = None
val_evaluator = None
