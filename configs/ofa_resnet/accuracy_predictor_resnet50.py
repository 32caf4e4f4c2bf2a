# The accuracy predictor of an OFA ResNet50 supernet: 1000 random (subnet,
# resolution) pairs measured after BN recalibration, then the official MLP
# on the official ResNetArchEncoder features; its checkpoint scores the
# search (search_flops_resnet50.py, test_cfg.predictor=dict(checkpoint=...)).
#   TOOL=search.py bash tools/dist_test.sh \
#       configs/ofa_resnet/accuracy_predictor_resnet50.py SUPERNET.pth 8 \
#       --work-dir work_dirs/resnet50_predictor
_base_ = ['./search_flops_resnet50.py']

test_cfg = dict(
    _delete_=True,
    type='mmofa.AccuracyPredictorLoop',
    num_samples=1000,
    resolutions=[160, 176, 192, 208, 224],
    calibrate_bn=dict(num_images=2000, batch_size=200),
    calibration_dataloader={{_base_.train_dataloader}})
