# Evolutionary search on a trained OFA ResNet50 supernet (e.g. the converted
# official ofa_resnet50): a sweep of FLOPs limits, candidates (subnet +
# resolution 160..224) scored by BN recalibration + top-1 on ImageNet val,
# or by an accuracy predictor (the official ResNetArchEncoder features;
# configs/ofa_resnet/accuracy_predictor_resnet50.py trains one). Per limit:
# the best subnet's YAML and static checkpoint; a CSV and a Pareto plot:
#   python tools/search.py configs/ofa_resnet/search_flops_resnet50.py \
#       SUPERNET.pth --work-dir work_dirs/resnet50_search
#   (TOOL=search.py bash tools/dist_test.sh ... 8 on 8 GPUs)
_base_ = [
    '../_base_/models/ofa_resnet50.py',
    '../_base_/datasets/imagenet_bs64_ofa.py', '../_base_/default_runtime.py'
]

test_dataloader = dict(batch_size=256)
test_cfg = dict(
    type='mmofa.EvolutionSearchLoop',
    # MFLOPs: the space spans 492-3823 at 160 px and 962-7492 at 224 px.
    constraints=[dict(flops=f) for f in (1000, 1500, 2000, 3000, 4000)],
    resolutions=[160, 176, 192, 208, 224],
    population_size=100,
    generations=500,
    seed=0,
    predictor=None,
    calibrate_bn=dict(num_images=2000, batch_size=200),
    calibration_dataloader={{_base_.train_dataloader}})
# A search has no training loop.
train_dataloader = None
val_dataloader = None
val_evaluator = None
