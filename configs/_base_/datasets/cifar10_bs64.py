# CIFAR-10 (mmpretrain reads data_root/cifar-10-batches-py); the pipelines
# of CIFAR-100.
_base_ = ['./cifar100_bs64.py']

data_root = 'data/cifar10'
data_preprocessor = dict(
    num_classes=10,
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255])

train_dataloader = dict(dataset=dict(type='CIFAR10', data_root=data_root))
val_dataloader = dict(dataset=dict(type='CIFAR10', data_root=data_root))
test_dataloader = val_dataloader
