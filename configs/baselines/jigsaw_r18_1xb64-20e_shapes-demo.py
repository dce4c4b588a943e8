# Jigsaw pretext baseline on the shapes demo: ResNet-18, the demo's small
# jigsaw geometry (96 crop, 3x3 cells of 32, 28x28 patches), |T| = 100
# permutations of maximal minimal Hamming distance.
_base_ = ['../pirl_r18_1xb64-20e_shapes-demo.py']

num_permutations = 100
model = dict(
    _delete_=True,
    type='JigsawPretext',
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
    neck=dict(
        type='JigsawPretextNeck',
        in_channels=512,
        mid_channels=128,
        num_patches=9),
    head=dict(
        type='LinearClsHead',
        num_classes=num_permutations,
        in_channels=9 * 128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
        cal_acc=True))

train_pipeline = [
    dict(type='RobustLoadImageFromFile'),
    dict(
        type='JigsawPretextTransform',
        jigsaw_crop_size=96,
        jigsaw_crop_scale=(0.6, 1.0),
        patch_size=28,
        permutations=num_permutations,
        permutation_method='hamming',
        permutation_seed=0),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# No memory bank (no MemoryBankHook): the RNG state and skipped-image hooks
# of the PIRL runtime only.
custom_hooks = [dict(type='RNGStateHook'), dict(type='SkippedImagesHook')]
