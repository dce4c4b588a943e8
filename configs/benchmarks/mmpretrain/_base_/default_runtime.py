# Runtime of the PIRL classification benchmarks (MMPretrain conventions).
default_scope = 'mmpretrain'
# `pirl_plugin` registers ResNetWithStem, MultiLayerLinearClsHead,
# MultiLayerAccuracy and KNNMonitorHook (and applies the runtime fixes that
# let PIRL checkpoints load on a current PyTorch).
custom_imports = dict(imports=['pirl_plugin'], allow_failed_imports=False)
# The plugin's runner (pirl_plugin/engine/runner.py): pre-flight checks,
# one-line errors, an orderly stop on SIGTERM/Ctrl-C, atomic checkpoints
# (scoped name: MMPretrain's tools/train.py builds it before any default
# scope is set).
runner_type = 'mmpretrain.PIRLRunner'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when no GPU is present.
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
