# RSS on CIFAR-100 with random draws per network: one kernel size, one expand
# ratio and one depth for the whole network.
_base_ = ['./rss_ofa_mbv3_w10_1xb64_cifar100.py']

custom_hooks = [
    dict(
        type='mmofa.RandomSubnetSamplingHook',
        full_net_epochs={{_base_.full_net_epochs}},
        num_subnets=1,
        granularity='network',
        distill=False)
]
work_dir = 'work_dirs/rss_network_ofa_mbv3_w10_1xb64_cifar100'
