# PIRL with ResNet-50 (Misra & van der Maaten, CVPR 2020).
model = dict(
    type='PIRL',
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
    # head f: linear 2048 -> 128 on the pooled res5 feature of the image
    neck=dict(
        type='LinearNeck',
        in_channels=2048,
        out_channels=128,
        gap_dim=2,
        norm_cfg=None,
        act_cfg=None),
    # head g: shared linear 2048 -> 128 per patch, concat of 9, 1152 -> 128
    transform_neck=dict(
        type='PIRLJigsawNeck',
        in_channels=2048,
        mid_channels=128,
        out_channels=128,
        num_patches=9),
    head=dict(
        type='NCEHead',
        loss_type='nce',
        temperature=0.07,
        num_negatives=32000,
        loss_lambda=0.5,
        shared_negatives=False),
    # num_samples is set by MemoryBankHook from the dataset length
    memory_bank=dict(type='MemoryBank', feat_dim=128, momentum=0.5))
