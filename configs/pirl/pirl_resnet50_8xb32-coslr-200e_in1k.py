# PIRL, ResNet-50, ImageNet-1k, 200 epochs (for quicker comparisons).
_base_ = ['pirl_resnet50_8xb32-coslr-800e_in1k.py']

max_epochs = 200
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min_ratio=1e-3,
        by_epoch=True,
        begin=0,
        end=max_epochs)  # stepped per epoch, as the authors'
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
