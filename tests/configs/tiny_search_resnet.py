# The tiny search on a narrow OFA ResNet50 space (its depths, expand ratios
# and widths): a sweep of two FLOPs limits, real evaluation.
_base_ = ['./tiny_search.py']

model = dict(
    architecture=dict(
        backbone=dict(
            _delete_=True,
            type='mmofa.OFAResNet',
            stem_width=16,
            stage_widths=[32, 48, 64, 96]),
        head=dict(in_channels=96, elastic_in_channels=True)))
test_cfg = dict(constraints=[dict(flops=0.9), dict(flops=1.4)])
