# default_runtime.py for the small CPU configs (the shapes demo, the digits):
# a log line every 10 iterations, a checkpoint every 5 epochs (the last 2
# kept), no cuDNN autotuner.
_base_ = ['default_runtime.py']

default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=5, max_keep_ckpts=2))
env_cfg = dict(cudnn_benchmark=False)
