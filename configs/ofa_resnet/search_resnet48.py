# The CVPR 2022 NAS track 1 ResNet-48 space, end to end on a trained supernet
# (configs/ofa_resnet/resnet48_ps_*.py):
#   1. evaluate a population (random subnets, or the track's JSON):
#      TOOL=analysis/eval_population.py bash tools/dist_test.sh \
#          configs/ofa_resnet/ofa_resnet48_supernet.py SUPERNET.pth 8 \
#          --num 1000 --work-dir work_dirs/resnet48_population
#   2. fit the accuracy predictor on it (Kendall tau on held-out subnets):
#      python tools/search.py \
#          configs/ofa_resnet/accuracy_predictor_resnet48.py \
#          SUPERNET.pth --work-dir work_dirs/resnet48_predictor
#   3. search under FLOPs limits with that predictor (this config):
#      python tools/search.py configs/ofa_resnet/search_resnet48.py \
#          SUPERNET.pth --work-dir work_dirs/resnet48_search
_base_ = ['./ofa_resnet48_supernet.py']

test_dataloader = dict(batch_size=256)
test_cfg = dict(
    _delete_=True,
    type='mmofa.EvolutionSearchLoop',
    # MFLOPs at 224 px: the space spans 943-5282.
    constraints=[dict(flops=f) for f in (1200, 1800, 2500, 3500)],
    resolutions=[224],  # the track's size
    population_size=100,
    generations=500,
    seed=0,
    predictor=dict(
        checkpoint='work_dirs/resnet48_predictor/predictor/predictor.pth'),
    calibrate_bn=dict(num_images=2000, batch_size=200),
    calibration_dataloader={{_base_.train_dataloader}})
train_dataloader = None
val_dataloader = None
val_evaluator = None
