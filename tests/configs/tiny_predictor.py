# The accuracy predictor of the tiny supernet: 12 measured subnets.
_base_ = ['./tiny_search.py']

test_cfg = dict(
    _delete_=True,
    type='mmofa.AccuracyPredictorLoop',
    num_samples=12,
    resolutions=[32, 40],
    hidden_size=16,
    train=dict(epochs=20, log_interval=0),
    calibrate_bn={{_base_.calibration}},
    calibration_dataloader={{_base_.test_cfg.calibration_dataloader}},
    save_interval=5)
