# PIRL with jigsaw and rotation together, on the shapes demo (ResNet-18,
# 64-pixel image and rotated views, 28-pixel patches of a 96 crop).
_base_ = [
    '../_base_/models/pirl_jigsaw-rotation_r50.py',
    '../_base_/datasets/shapes_demo_pirl.py',
    '../_base_/schedules/pirl_sgd_coslr_20e_demo.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=512),
    transforms=[
        dict(
            name='jigsaw',
            num_views=9,
            neck=dict(
                type='PIRLJigsawNeck',
                in_channels=512,
                mid_channels=128,
                out_channels=128,
                num_patches=9)),
        dict(
            name='rotation',
            num_views=1,
            neck=dict(
                type='LinearNeck',
                in_channels=512,
                out_channels=128,
                gap_dim=2,
                norm_cfg=None,
                act_cfg=None)),
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

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=5, max_keep_ckpts=2))
env_cfg = dict(cudnn_benchmark=False)
