# The accuracy predictor of the narrow ResNet-48 space, fitted to a measured
# population (test_cfg.dataset given by the test).
_base_ = ['./tiny_search_resnet48.py']

test_cfg = dict(
    _delete_=True,
    type='mmofa.AccuracyPredictorLoop',
    dataset=None,
    resolutions=[32],
    hidden_size=16,
    train=dict(epochs=30, log_interval=0),
    calibrate_bn=None)
