# The CVPR 2022 NAS track 1 ResNet-48 supernet (ImageNet head), e.g. to
# evaluate the track's architecture codes:
#   model.set_subnet('348311131310000332323230014143424241434543757770000')
_base_ = [
    '../_base_/models/ofa_resnet48.py',
    '../_base_/datasets/imagenet_bs64_ofa.py', '../_base_/default_runtime.py'
]

# The track evaluates at 224 px (resize 256, centre crop 224).
test_cfg = dict(
    type='mmofa.SubnetTestLoop',
    subnets=['max', 'min'],
    resolutions=[224],
    calibrate_bn=dict(num_images=2000, batch_size=200))
