# Rotation pretext baseline with ResNet-50 (Gidaris et al. 2018): every
# image rotated by 0/90/180/270 degrees in the model, 4-way classification
# of the rotation from the pooled res5 feature.
model = dict(
    type='RotationPretext',
    angles=(0, 90, 180, 270),
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        in_channels=3,
        out_indices=[3],
        norm_cfg=dict(type='BN')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=4,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, ),
        cal_acc=True))
