# The tiny search on the CompOFA space of the tiny MobileNetV3: depth and
# expand ratio coupled per stage, fixed kernels; real evaluation.
_base_ = ['./tiny_search.py']

model = dict(
    architecture=dict(
        backbone=dict(
            kernel_sizes=[[3], [5], [3], [3], [5]], transform_kernel=False)),
    mutator=dict(couplings=[
        dict(dims=('depth', 'expand_ratio'), choices=[(2, 3), (3, 4), (4, 6)])
    ]))
test_cfg = dict(constraints=[dict(flops=0.5), dict(flops=0.8)])
