# CompOFA MobileNetV3, width 1.0: the OFA supernet with depth and expand ratio
# coupled per stage, (depth, expand) in {(2, 3), (3, 4), (4, 6)} with every
# block of a stage sharing the expand ratio, and fixed kernels 3/5/3/3/5 per
# stage as centre crops (no transform matrices): 3^5 = 243 subnets per
# resolution. The weights keep OFA's layout, so an OFA teacher loads (its 7x7
# kernels as centre crops).
_base_ = ['./ofa_mbv3_w10.py']

model = dict(
    architecture=dict(
        backbone=dict(
            kernel_sizes=[[3], [5], [3], [3], [5]], transform_kernel=False)),
    mutator=dict(couplings=[
        dict(dims=('depth', 'expand_ratio'), choices=[(2, 3), (3, 4), (4, 6)])
    ]))
