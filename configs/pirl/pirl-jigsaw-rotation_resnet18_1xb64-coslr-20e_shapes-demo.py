# PIRL with jigsaw and rotation together, on the shapes demo (ResNet-18,
# 64-pixel image and rotated views, 28-pixel patches of a 96 crop).
_base_ = [
    '../_base_/models/pirl_jigsaw-rotation_r50.py',
    '../_base_/datasets/shapes_demo_pirl.py',
    '../_base_/schedules/pirl_sgd_coslr_20e_demo.py',
    '../_base_/demo_runtime.py',
]

model = dict(
    # as the PIRL demo (MMPretrain's default; the measured setting)
    backbone=dict(depth=18, zero_init_residual=True),
    neck=dict(in_channels=512),
    # both heads g at ResNet-18's width (512-d res5)
    transforms=[
        dict(t, neck=dict(t.neck, in_channels=512))
        for t in _base_.model.transforms
    ],
    head=dict(num_negatives=1024))

train_pipeline = [
    dict(type='RobustLoadImageFromFile'),
    dict(
        type='PIRLJigsawRotationTransform',
        # the lighter recipe the demo was tuned and measured with (ours):
        # MoCo v2's colour jitter, no photometric op, patches not flipped
        recipe='mocov2_jitter',
        img_size=64,
        img_crop_scale=(0.2, 1.0),
        jigsaw_crop_size=96,
        jigsaw_crop_scale=(0.6, 1.0),
        patch_size=28,
        rot_size=64,
        rot_crop_scale=(0.2, 1.0)),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
