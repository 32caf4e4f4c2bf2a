# CompOFA phase 1 (the CompOFA code's `--task compound --phase 1
# --fixed_kernel --heuristic simple`): starts from the OFA teacher (kernel 7,
# expand 6, depth 4; its 7x7 kernels load as centre crops) and trains the
# whole coupled space at once, no progressive stages: four coupled subnets per
# step, distilled from that teacher. 25 epochs, lr 0.08 at batch 2048, no
# warmup.
_base_ = [
    '../_base_/models/compofa_mbv3_w10.py',
    '../_base_/datasets/imagenet_bs64_ofa.py',
    '../_base_/schedules/ofa_ps_8xb64.py', '../_base_/default_runtime.py'
]

teacher_checkpoint = 'work_dirs/ps_teacher_8xb64/epoch_180.pth'
load_from = teacher_checkpoint
model = dict(
    num_subnets=4,
    resolutions=dict(start=128, stop=224, step=4),
    distillation=dict(
        teacher=dict(
            checkpoint=teacher_checkpoint,
            model='configs/_base_/models/ofa_mbv3_w10.py'),
        loss=dict(type='mmofa.KDLoss', kd_type='ce', loss_weight=1.0)))

optim_wrapper = dict(optimizer=dict(lr=0.08))
param_scheduler = dict(
    type='mmofa.StagedCosineLR',
    stages=[dict(length=25)],
    convert_to_iter_based=True)
train_cfg = dict(max_epochs=25)
# The uniform grid is not in the coupled space: the largest, the smallest and
# random coupled subnets instead.
val_cfg = dict(subnets=['max', 'min', dict(type='random', num=4, seed=0)])
test_cfg = dict(subnets=['max', 'min', dict(type='random', num=4, seed=0)])
