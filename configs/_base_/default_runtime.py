# Runtime shared by mmofa's training and test configs.
default_scope = 'mmofa'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Written atomically: a kill while saving keeps the last good one.
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=3,
        backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Generator states in checkpoints: --resume repeats the same draws.
    random_state=dict(type='mmofa.RandomStateHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),  # gloo is used when there is no GPU
    # Keep freed CPU memory for reuse (glibc): up to 2x faster CPU forward
    # passes; see mmofa.utils.retain_freed_memory.
    retain_freed_memory=True,
)

# One gradient all-reduce per step, CPU (gloo) and GPU (nccl).
model_wrapper_cfg = dict(type='mmofa.SupernetDistributedWrapper')

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_processor = dict(by_epoch=True, window_size=10)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
