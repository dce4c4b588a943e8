# PIRL, ResNet-50, ImageNet-1k, 800 epochs, 8 GPUs x 32 images (paper recipe
# with lr 0.03 per 256 images; 32 GPUs x 32 gives the paper's 0.12).
_base_ = [
    '../_base_/models/pirl_r50.py',
    '../_base_/datasets/imagenet_pirl.py',
    '../_base_/schedules/pirl_sgd_coslr.py',
    '../_base_/default_runtime.py',
]
