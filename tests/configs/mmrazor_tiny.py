# The narrowed MMRazor OFA MobileNetV3 supernet of tests/data/mmrazor
# (tools/mmrazor/make_fixtures.py): widths 8/16, 5 classes, MMRazor's
# resolutions that the fixtures use.
_base_ = ['../../configs/_base_/models/ofa_mbv3_w10.py']

model = dict(
    resolutions=[128, 140],
    architecture=dict(
        data_preprocessor=dict(num_classes=5),
        backbone=dict(base_widths=[8, 8, 8, 8, 16, 16, 16, 96, 64]),
        head=dict(num_classes=5, in_channels=64, topk=(1, ))))
