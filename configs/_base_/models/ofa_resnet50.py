# The official Once-for-All ResNet50 supernet (ofa_resnet50), ImageNet head.
# Depth 0/1/2 (extra blocks per stage, and the stem's residual conv),
# expand 0.2/0.25/0.35 (of each block's output width), width 0.65/0.8/1.0;
# ResNet-D stem and shortcuts. The classifier takes the active width of the
# last stage (elastic_in_channels, the official DynamicLinearLayer).
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
            type='mmofa.OFAResNet',
            depths=[0, 1, 2],
            expand_ratios=[0.2, 0.25, 0.35],
            width_mults=[0.65, 0.8, 1.0]),
        head=dict(
            type='mmofa.DropoutLinearClsHead',
            num_classes=1000,
            in_channels=2048,
            elastic_in_channels=True,
            dropout_rate=0.1,
            loss=dict(
                type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
            topk=(1, 5))),
    mutator=dict(type='mmofa.OFAMutator'))
