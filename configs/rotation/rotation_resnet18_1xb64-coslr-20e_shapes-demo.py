# Rotation pretext baseline on the shapes demo: ResNet-18, 64-pixel crops,
# each rotated by 0/90/180/270 in the model. (The demo's shapes are drawn at
# random angles, which makes this task hard on this dataset.)
_base_ = [
    '../_base_/models/rotation_pretext_r50.py',
    '../_base_/datasets/shapes_demo_pirl.py',
    '../_base_/schedules/pirl_sgd_coslr_20e_demo.py',
    '../_base_/demo_runtime.py',
]

# zero_init_residual as the PIRL demo (MMPretrain's default; measured)
model = dict(
    backbone=dict(depth=18, zero_init_residual=True),
    head=dict(in_channels=512))

train_pipeline = [
    dict(type='RobustLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.2, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PIRLColorJitter', prob=0.8, gray_prob=0.2),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# No memory bank (no bank hooks): the RNG state and skipped-image hooks
# of the PIRL runtime only.
custom_hooks = [dict(type='RNGStateHook'), dict(type='SkippedImagesHook')]
