# PIRL, ResNet-50, ImageNet-1k, 200 epochs: the authors' exact run of
# pirl_resnet50_32xb32-coslr-800e_in1k.py (4 nodes x 8 GPUs x 32 images, lr
# 0.12, every exact-VISSL switch on) with VISSL's 200-epoch schedule
# (num_epochs: 200): the same cosine, from lr to lr / 1000, per epoch.
_base_ = ['./pirl_resnet50_32xb32-coslr-800e_in1k.py']

max_epochs = 200
param_scheduler = [
    dict(_base_.param_scheduler[0], T_max=max_epochs, end=max_epochs)
]
train_cfg = dict(max_epochs=max_epochs)
