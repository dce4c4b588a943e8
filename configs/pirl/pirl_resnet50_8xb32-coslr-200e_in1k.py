# PIRL, ResNet-50, ImageNet-1k, 200 epochs (for quicker comparisons).
_base_ = [
    '../_base_/models/pirl_r50.py',
    '../_base_/datasets/imagenet_pirl.py',
    '../_base_/schedules/pirl_sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]
