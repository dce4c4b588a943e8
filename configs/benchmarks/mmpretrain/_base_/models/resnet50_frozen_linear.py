# A linear classifier over a frozen ResNet-50 initialised from a PIRL
# checkpoint. Pass the checkpoint on the command line:
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/pirl/epoch_800.pth
# `prefix='backbone.'` keeps only the backbone weights of the raw PIRL
# checkpoint (its neck, transform_neck, head and memory bank are dropped).
# The placeholder below is not a file: training stops with
# "... can not be found" until the checkpoint is given.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch',
        frozen_stages=4,  # stem + res2..res5 frozen
        norm_eval=True,  # BN statistics frozen too
        init_cfg=dict(
            type='Pretrained',
            checkpoint='PASS --cfg-options '
            'model.backbone.init_cfg.checkpoint=PATH_TO_PIRL_CHECKPOINT',
            prefix='backbone.')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
