# Rotation pretext baseline, ResNet-50, ImageNet-1k, 90 epochs, 8 GPUs x 32
# images (each rotated 4 times in the model: 128 backbone inputs per GPU).
# Schedule: SGD momentum 0.9, wd 1e-4, cosine from lr 0.1 per 256 images
# (our choice, not the paper's).
_base_ = [
    '../_base_/models/rotation_pretext_r50.py',
    '../_base_/datasets/imagenet_pirl.py',
    '../_base_/schedules/pretext_sgd_coslr_90e.py',
    '../_base_/default_runtime.py',
]

train_pipeline = [
    dict(type='RobustLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.08, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PIRLColorJitter', prob=0.8, gray_prob=0.2),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# No memory bank (no bank hooks): the RNG state and skipped-image hooks
# of the PIRL runtime only.
custom_hooks = [dict(type='RNGStateHook'), dict(type='SkippedImagesHook')]
