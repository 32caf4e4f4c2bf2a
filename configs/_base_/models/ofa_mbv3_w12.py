# The official Once-for-All MobileNetV3 supernet, width 1.2 (10.72 M params).
_base_ = ['./ofa_mbv3_w10.py']

model = dict(
    architecture=dict(
        backbone=dict(width_mult=1.2), head=dict(in_channels=1536)))
