# Test one subnet of an OFA ResNet50 supernet (e.g. the converted official
# ofa_resnet50) on ImageNet val, after BN recalibration on 2000 training
# images:
#   bash tools/dist_test.sh \
#       configs/ofa_resnet/ofa_resnet50_subnet_8xb256_in1k.py \
#       SUPERNET.pth 8 --cfg-options model.subnet=SUBNET.yaml
# model.subnet takes an mmofa subnet YAML or an official arch dict file
# ({"d": [...], "e": [...], "w": [...]}); None tests the largest subnet.
_base_ = [
    '../_base_/models/ofa_resnet50.py',
    '../_base_/datasets/imagenet_bs64_ofa.py', '../_base_/default_runtime.py'
]

model = dict(subnet=None)
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
