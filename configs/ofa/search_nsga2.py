# The whole accuracy-FLOPs front of a trained OFA MobileNetV3 w1.0 supernet
# in one NSGA-II search (instead of search_flops.py's sweep of 7 limits):
# candidates (subnet + resolution 128..224) scored by the accuracy
# predictor, at most 600 MFLOPs. In WORK_DIR/search/nsga2_flops_flops600/:
# front.csv, each member's YAML, 20 members exported (BN recalibrated)
# evenly along the front, front_flops.png:
#   python tools/search.py configs/ofa/search_nsga2.py SUPERNET.pth \
#       --work-dir work_dirs/ofa_search
# Two costs at once: test_cfg.objectives=['latency', 'params'] with a
# latency_table (see search_latency.py).
_base_ = ['./search_flops.py']

test_cfg = dict(
    _delete_=True,
    type='mmofa.NSGA2SearchLoop',
    objectives=['flops'],
    constraints=dict(flops=600),
    resolutions=list(range(128, 225, 4)),
    population_size=100,
    generations=200,
    mutation_ratio=0.5,
    arch_mutate_prob=0.1,
    resolution_mutate_prob=0.5,
    seed=0,
    max_exports=20,
    predictor=dict(
        checkpoint='work_dirs/ofa_predictor/predictor/predictor.pth'),
    calibrate_bn=dict(num_images=2000, batch_size=200),
    calibration_dataloader={{_base_.calibration_dataloader}})
