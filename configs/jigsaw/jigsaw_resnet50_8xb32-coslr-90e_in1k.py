# Jigsaw pretext baseline, ResNet-50, ImageNet-1k, 90 epochs, 8 GPUs x 32
# images, |T| = 2000 permutations of maximal minimal Hamming distance
# (generated at start-up with seed 0; `python tools/make_permutations.py
# --num 2000` writes the same set to a file). Schedule: SGD momentum 0.9,
# wd 1e-4, cosine from lr 0.1 per 256 images (our choice, not the paper's).
_base_ = [
    '../_base_/models/jigsaw_pretext_r50.py',
    '../_base_/datasets/imagenet_pirl.py',
    '../_base_/schedules/pretext_sgd_coslr_90e.py',
    '../_base_/default_runtime.py',
]

num_permutations = 2000
model = dict(head=dict(num_classes=num_permutations))

train_pipeline = [
    dict(type='RobustLoadImageFromFile'),
    # 255 crop (>= 60% of the image), 3x3 cells of 85, 64x64 patches,
    # per-patch jitter, shuffled by one of the |T| permutations
    # (gt_label = its index)
    dict(
        type='JigsawPretextTransform',
        permutations=num_permutations,
        permutation_method='hamming',
        permutation_seed=0),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# No memory bank (no bank hooks): the RNG state and skipped-image hooks
# of the PIRL runtime only.
custom_hooks = [dict(type='RNGStateHook'), dict(type='SkippedImagesHook')]
