# PIRL (jigsaw) under the setting of the paper's Table 5 (400 epochs, 4,096
# negatives): the reference for the rotation and jigsaw+rotation configs.
_base_ = ['pirl_resnet50_8xb32-coslr-800e_in1k.py']

model = dict(head=dict(num_negatives=4096))
max_epochs = 400
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
