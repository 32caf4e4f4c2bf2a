# Test one subnet of an OFA MobileNetV3 w1.0 on ImageNet val, after BN
# recalibration on 2000 training images:
#   bash tools/dist_test.sh configs/ofa/ofa_mbv3_subnet_8xb256_in1k.py \
#       SUPERNET.pth 8 --cfg-options model.subnet=SUBNET.yaml
# A static subnet checkpoint (tools/export_subnet.py) is tested with the same
# config: the subnet stored in it selects the static model.
_base_ = [
    '../_base_/models/ofa_mbv3_w10.py',
    '../_base_/datasets/imagenet_bs64_ofa.py', '../_base_/default_runtime.py'
]

model = dict(subnet=None)  # None: the largest subnet
test_dataloader = dict(batch_size=256)
test_cfg = dict(
    type='mmofa.SubnetTestLoop',
    subnets=['current'],
    resolutions=[224],
    calibrate_bn=dict(num_images=2000, batch_size=200),
    # training images with training augmentation, for BN recalibration
    calibration_dataloader={{_base_.train_dataloader}})
# A test-only run has no training loop.
train_dataloader = None
val_dataloader = None
val_evaluator = None
