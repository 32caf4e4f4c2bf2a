# The elastic ResNet-48 of the CVPR 2022 NAS track 1: depths 2-5 (stage 3:
# 2-8), every conv's width ratio in 1.0, 0.95, ..., 0.7 of 64/128/256/512
# (multiples of 8); ImageNet head (elastic input: the last stage's width
# varies).
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
            type='mmofa.OFAResNet48',
            depths=[[2, 3, 4, 5], [2, 3, 4, 5], [2, 3, 4, 5, 6, 7, 8],
                    [2, 3, 4, 5]],
            channel_ratios=[1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7],
            base_channels=[64, 128, 256, 512]),
        head=dict(
            type='mmofa.DropoutLinearClsHead',
            elastic_in_channels=True,
            num_classes=1000,
            in_channels=512,
            loss=dict(
                type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
            topk=(1, 5))),
    mutator=dict(type='mmofa.OFAMutator'))
