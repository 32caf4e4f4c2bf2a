# RSS on CIFAR-100 with random draws per stage: the blocks of a stage share
# one kernel size and one expand ratio.
_base_ = ['./rss_ofa_mbv3_w10_1xb64_cifar100.py']

custom_hooks = [
    dict(
        type='mmofa.RandomSubnetSamplingHook',
        full_net_epochs={{_base_.full_net_epochs}},
        num_subnets=1,
        granularity='stage',
        distill=False)
]
work_dir = 'work_dirs/rss_stage_ofa_mbv3_w10_1xb64_cifar100'
