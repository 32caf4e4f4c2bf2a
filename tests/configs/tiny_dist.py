# tiny_ps.py made deterministic for comparing a 2-process run with a
# 1-process run: no random augmentation, no shuffling, no dropout.
_base_ = ['./tiny_ps.py']

model = dict(architecture=dict(head=dict(dropout_rate=0.0)))
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='mmofa.LoadImageFromFile', on_error='raise'),
        dict(type='mmofa.ResizeCenterCrop', size=40),
        dict(type='PackInputs'),
    ]),
    sampler=dict(type='DefaultSampler', shuffle=False))
train_cfg = dict(val_interval=100)
