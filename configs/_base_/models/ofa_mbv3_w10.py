# The official Once-for-All MobileNetV3 supernet, width 1.0, ImageNet head.
# Kernel 3/5/7, expand 3/4/6, depth 2/3/4; 7.68 M parameters.
model = dict(
    type='mmofa.OFA',
    architecture=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=dict(
            num_classes=1000,
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            to_rgb=True),
        backbone=dict(
            type='mmofa.OFAMobileNetV3',
            width_mult=1.0,
            kernel_sizes=[3, 5, 7],
            expand_ratios=[3, 4, 6],
            depths=[2, 3, 4]),
        head=dict(
            type='mmofa.DropoutLinearClsHead',
            num_classes=1000,
            in_channels=1280,
            dropout_rate=0.1,
            loss=dict(
                type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
            topk=(1, 5))),
    mutator=dict(type='mmofa.OFAMutator'))
