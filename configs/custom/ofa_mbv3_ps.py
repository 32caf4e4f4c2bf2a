# Once-for-All on your dataset, way 2: shortened progressive shrinking from
# scratch (docs/custom_dataset.md): the full network first (the teacher),
# then kernel, depth and expand ratio shrunk in turn, distilled from the
# teacher, as the official recipe but in 31 epochs
# (_base_/schedules/ofa_mbv3_ps_31e.py). For a dataset of another size keep
# the epochs and set `repeat` in my_dataset.py (passes over the images per
# epoch), so that the schedule has enough steps.
#   python tools/train.py configs/custom/ofa_mbv3_ps.py
_base_ = [
    '../_base_/models/ofa_mbv3_w10.py', './my_dataset.py',
    '../_base_/schedules/ofa_mbv3_ps_31e.py', '../_base_/default_runtime.py'
]

model = dict(
    resolutions={{_base_.resolutions}},
    architecture=dict(
        data_preprocessor={{_base_.preprocessor}},
        head=dict(num_classes={{_base_.num_classes}}, topk=(1, ))))
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2))
work_dir = 'work_dirs/custom_ps'
