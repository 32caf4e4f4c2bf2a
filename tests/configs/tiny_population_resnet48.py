# The tiny population evaluation on a narrow supernet of the CVPR 2022 NAS
# track's ResNet-48 space (its depths and channel ratios, narrow widths).
_base_ = ['./tiny_population.py']

model = dict(
    architecture=dict(
        backbone=dict(
            _delete_=True,
            type='mmofa.OFAResNet48',
            base_channels=[16, 16, 24, 32]),
        head=dict(in_channels=32, elastic_in_channels=True)))
