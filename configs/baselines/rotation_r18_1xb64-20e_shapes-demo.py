# Rotation pretext baseline on the shapes demo: ResNet-18, 64-pixel crops,
# each rotated by 0/90/180/270 in the model. (The demo's shapes are drawn at
# random angles, which makes this task hard on this dataset.)
_base_ = ['../pirl_r18_1xb64-20e_shapes-demo.py']

model = dict(
    _delete_=True,
    type='RotationPretext',
    angles=(0, 90, 180, 270),
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=18,
        in_channels=3,
        out_indices=[3],
        norm_cfg=dict(type='BN')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=4,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, ),
        cal_acc=True))

train_pipeline = [
    dict(type='RobustLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.2, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PIRLColorJitter', prob=0.8, gray_prob=0.2),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# No memory bank (no MemoryBankHook): the RNG state and skipped-image hooks
# of the PIRL runtime only.
custom_hooks = [dict(type='RNGStateHook'), dict(type='SkippedImagesHook')]
