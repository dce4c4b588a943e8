# Runtime shared by the PIRL configs (MMPretrain self-supervised style).
default_scope = 'mmpretrain'
custom_imports = dict(imports=['pirl_plugin'], allow_failed_imports=False)
# The plugin's runner (pirl_plugin/engine/runner.py): pre-flight checks,
# one-line errors, an orderly stop on SIGTERM/Ctrl-C that names the last
# checkpoint and the command that continues the run, atomic checkpoints;
# for MMPretrain's own tools/train.py and `mim train` as for ours. The
# 'mmpretrain.' scope is needed: MMPretrain's tools/train.py builds the
# runner before any default scope is set.
runner_type = 'mmpretrain.PIRLRunner'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # refuses a run that cannot do what its config says (a dataset smaller
    # than one batch, a schedule shorter than the run, a bank of the wrong
    # size), for every model
    preflight_checks=dict(type='PreflightChecksHook'),
)
# BankUpdateHook sizes the memory bank from the dataset and commits its
# updates after each optimiser step (required by PIRL); CollapseGuardHook
# logs bank_pairwise_sim and warns when the bank collapses;
# BankConsistencyHook compares the bank across ranks every `interval`
# iterations (off: `--cfg-options custom_hooks.2.interval=100` turns it on);
# RNGStateHook stores the RNG states in checkpoints for an exact --resume;
# SkippedImagesHook counts the images RobustLoadImageFromFile skipped.
custom_hooks = [
    dict(type='BankUpdateHook'),
    dict(type='CollapseGuardHook'),
    dict(type='BankConsistencyHook', interval=0),
    dict(type='RNGStateHook'),
    dict(type='SkippedImagesHook'),
]

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when no GPU is present.
    dist_cfg=dict(backend='nccl'),
)
# The bank is a buffer: never broadcast it every step (655 MB on ImageNet).
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', broadcast_buffers=False)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_processor = dict(
    window_size=10,
    custom_cfg=[dict(data_src='', method='mean', window_size='global')])
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, diff_rank_seed=True, deterministic=False)
