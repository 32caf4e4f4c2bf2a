# Any image folder dataset (data_root/train/<class>/*.jpg, data_root/val/...)
# with the ImageNet pipelines of Once-for-All. Set data_root here and the
# number of classes in the model's head and data preprocessor.
_base_ = ['./imagenet_bs64_ofa.py']

data_root = 'data/my_dataset'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        _scope_='mmpretrain',
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        _scope_='mmpretrain',
        type='CustomDataset',
        data_root=data_root,
        data_prefix='val',
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
