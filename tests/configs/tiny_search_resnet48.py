# The tiny CVPR 2022 track workflow on a narrow ResNet-48 space: a search
# under FLOPs limits scored by an accuracy predictor fitted to a measured
# population (test_cfg.predictor.checkpoint given by the test).
_base_ = ['./tiny_search.py']

model = dict(
    architecture=dict(
        backbone=dict(
            _delete_=True,
            type='mmofa.OFAResNet48',
            base_channels=[16, 16, 24, 32]),
        head=dict(in_channels=32, elastic_in_channels=True)))
test_cfg = dict(
    constraints=[dict(flops=1.8), dict(flops=2.4)],
    resolutions=[32],
    generations=10,
    predictor=dict(checkpoint=None))
