# CompOFA phase 2: continues phase 1 on the same coupled space, four subnets
# per step, distilled from the OFA teacher. 120 + 5 warmup epochs, lr 0.24 at
# batch 2048.
_base_ = ['./compofa_mbv3_w10_phase1_8xb64.py']

load_from = 'work_dirs/compofa_mbv3_w10_phase1_8xb64/epoch_25.pth'

optim_wrapper = dict(optimizer=dict(lr=0.24))
param_scheduler = dict(
    stages=[dict(length=125, warmup=5, warmup_start=1 / 32)])
train_cfg = dict(max_epochs=125)
