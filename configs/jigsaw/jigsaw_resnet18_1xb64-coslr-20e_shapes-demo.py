# Jigsaw pretext baseline on the shapes demo: ResNet-18, the demo's small
# jigsaw geometry (96 crop, 3x3 cells of 32, 28x28 patches), |T| = 100
# permutations of maximal minimal Hamming distance.
_base_ = [
    '../_base_/models/jigsaw_pretext_r50.py',
    '../_base_/datasets/shapes_demo_pirl.py',
    '../_base_/schedules/pirl_sgd_coslr_20e_demo.py',
    '../_base_/demo_runtime.py',
]

num_permutations = 100
model = dict(
    # as the PIRL demo (MMPretrain's default; the measured setting)
    backbone=dict(depth=18, zero_init_residual=True),
    neck=dict(in_channels=512, mid_channels=128),
    head=dict(num_classes=num_permutations, in_channels=9 * 128))

train_pipeline = [
    dict(type='RobustLoadImageFromFile'),
    dict(
        type='JigsawPretextTransform',
        # the lighter recipe the demo was tuned and measured with (ours):
        # MoCo v2's colour jitter, no photometric op, patches not flipped
        recipe='mocov2_jitter',
        jigsaw_crop_size=96,
        jigsaw_crop_scale=(0.6, 1.0),
        patch_size=28,
        permutations=num_permutations,
        permutation_method='hamming',
        permutation_seed=0),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# No memory bank (no bank hooks): the RNG state and skipped-image hooks
# of the PIRL runtime only.
custom_hooks = [dict(type='RNGStateHook'), dict(type='SkippedImagesHook')]
