# PIRL, ResNet-50, ImageNet-1k, 200 epochs (for quicker comparisons); our
# defaults, as pirl_resnet50_8xb32-coslr-800e_in1k.py (the authors' exact
# run: pirl_resnet50_32xb32-coslr-200e_in1k.py).
_base_ = [
    '../_base_/models/pirl_r50.py',
    '../_base_/datasets/imagenet_pirl.py',
    '../_base_/schedules/pirl_sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]
