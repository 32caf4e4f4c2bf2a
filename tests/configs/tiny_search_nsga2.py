# The tiny search of tiny_search.py as one NSGA-II run: the front of score
# against FLOPs and params, under a hard FLOPs limit, scored by real
# evaluation (BN recalibrated).
_base_ = ['./tiny_search.py']

test_cfg = dict(
    _delete_=True,
    type='mmofa.NSGA2SearchLoop',
    objectives=['flops', 'params'],
    constraints=dict(flops=1.5),
    resolutions=[32, 40],
    population_size=8,
    generations=3,
    max_exports=3,
    calibrate_bn={{_base_.calibration}},
    calibration_dataloader={{_base_.test_cfg.calibration_dataloader}},
    save_interval=1,
    log_interval=1)
