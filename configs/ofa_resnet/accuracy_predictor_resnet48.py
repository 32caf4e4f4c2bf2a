# Fit the accuracy predictor of the ResNet-48 space to a population measured
# with tools/analysis/eval_population.py (its results.json); reports the
# RMSE and Kendall's tau of predicted vs measured accuracy on the held-out
# fifth, the track's metric:
#   python tools/search.py configs/ofa_resnet/accuracy_predictor_resnet48.py \
#       SUPERNET.pth --work-dir work_dirs/resnet48_predictor \
#       --cfg-options \
#       test_cfg.dataset=work_dirs/resnet48_population/population/results.json
_base_ = ['./search_resnet48.py']

test_cfg = dict(
    _delete_=True,
    type='mmofa.AccuracyPredictorLoop',
    dataset='work_dirs/resnet48_population/population/results.json',
    resolutions=[224],
    calibrate_bn=dict(num_images=2000, batch_size=200),
    calibration_dataloader={{_base_.train_dataloader}})
