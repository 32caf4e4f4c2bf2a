# RSS anchor on CIFAR-100: after the full network, the sampling epochs
# alternate between the smallest subnet (even epochs) and the largest (odd).
_base_ = ['./rss_ofa_mbv3_w10_1xb64_cifar100.py']

custom_hooks = [
    dict(
        type='mmofa.RandomSubnetSamplingHook',
        full_net_epochs={{_base_.full_net_epochs}},
        anchor=True,
        distill=False)
]
work_dir = 'work_dirs/rss_anchor_ofa_mbv3_w10_1xb64_cifar100'
