# The demo supernet's accuracy-FLOPs front in one NSGA-II search, every
# candidate scored by BN recalibration + top-1 on the demo val set; run in
# the work dir of search_demo.py, its plot shows the sweep's three subnets
# beside the front. A few minutes on 2 CPU cores:
#   python tools/search.py configs/demo/search_nsga2_demo.py \
#       work_dirs/demo_ps/epoch_31.pth --work-dir work_dirs/demo_search
_base_ = ['./search_demo.py']

test_cfg = dict(
    _delete_=True,
    type='mmofa.NSGA2SearchLoop',
    objectives=['flops'],
    constraints=dict(flops=8.0),
    resolutions=[48, 56, 64],
    population_size=16,
    generations=6,
    max_exports=4,
    calibrate_bn=dict(num_images=500, batch_size=100),
    calibration_dataloader={{_base_.test_cfg.calibration_dataloader}},
    log_interval=1)
