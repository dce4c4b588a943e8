# Jigsaw pretext baseline with ResNet-50 (Noroozi & Favaro 2016; ResNet-50
# version after Goyal et al. 2019): the shared backbone on each of the 9
# patches, the 9 pooled features concatenated in the shuffled order, a
# |T|-way classifier of the permutation.
num_permutations = 2000
model = dict(
    type='JigsawPretext',
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
    # per patch: avgpool -> shared linear 2048 -> 512 + ReLU; concat of 9
    neck=dict(
        type='JigsawPretextNeck',
        in_channels=2048,
        mid_channels=512,
        num_patches=9),
    head=dict(
        type='LinearClsHead',
        num_classes=num_permutations,
        in_channels=9 * 512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
        cal_acc=True))
