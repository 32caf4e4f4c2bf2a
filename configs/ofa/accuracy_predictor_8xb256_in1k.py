# The accuracy predictor of a trained OFA MobileNetV3 w1.0 supernet:
# measure 2000 random (subnet, resolution) pairs (BN recalibrated on 2000
# training images, top-1 on a fixed 10k subset of ImageNet val), then fit
# the official MLP (code -> 400 -> 400 -> 400 -> 1):
#   TOOL=search.py bash tools/dist_test.sh \
#       configs/ofa/accuracy_predictor_8xb256_in1k.py SUPERNET.pth 8 \
#       --work-dir work_dirs/ofa_predictor
# Interrupted runs continue from work_dir/predictor/dataset.json.
_base_ = ['./search_flops.py']

test_dataloader = dict(
    sampler=dict(
        _delete_=True, type='mmofa.FixedSubsetSampler', num_images=10000))
test_cfg = dict(
    _delete_=True,
    type='mmofa.AccuracyPredictorLoop',
    num_samples=2000,
    resolutions=list(range(128, 225, 4)),
    seed=0,
    hidden_size=400,
    num_layers=3,
    train=dict(epochs=300, batch_size=256, lr=1e-3),
    calibrate_bn=dict(num_images=2000, batch_size=200),
    calibration_dataloader={{_base_.calibration_dataloader}})
