# MMPretrain's MoCo v2 (type='MoCo' with MoCoV2Neck and ContrastiveHead,
# MMPretrain's configs/mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py and
# _base_/datasets/imagenet_bs32_mocov2.py) at the size of the PIRL shapes
# demo, for comparisons at the same budget
# (tools/analysis/compare_mocov2.py; docs/small_data.md):
# - the demo's backbone (ResNet-18, 16 base channels: 128-d res5), so the
#   MLP neck is 128 -> 128 -> 128 (MoCo v2's hidden width = input width);
# - the demo's batch (64, one process), optimiser, lr schedule and epochs
#   (configs/_base_/schedules/pirl_sgd_coslr_20e_demo.py: SGD lr 0.06,
#   momentum 0.9, wd 1e-4 except BatchNorm and biases, cosine to 1/100 over
#   20 epochs) and the demo's 64-px image view;
# - queue of 1,024 keys, the number of negatives the PIRL demo scores
#   (it must be a multiple of the batch and is best below the number of
#   training images); tau 0.2 and key-encoder momentum 0.001 (= EMA 0.999)
#   as MMPretrain's config.
# Views as MMPretrain's MoCo v2 pipeline at 64 px, with ONE substitution:
# mmpretrain's ColorJitter(hue > 0) crashes under numpy 2 (mmcv adjust_hue
# OverflowError, docs/setup.md), so ColorJitter(0.4, 0.4, 0.4, 0.1)
# p=0.8 + RandomGrayscale(0.2) is this project's PIRLColorJitter with the
# same brightness / contrast / saturation / hue, prob=0.8, gray_prob=0.2.
# No memory-bank hooks (MoCo keeps its own queue).
_base_ = [
    '../_base_/models/resnet50_selfsup.py',
    '../_base_/datasets/shapes_demo_pirl.py',
    '../_base_/schedules/pirl_sgd_coslr_20e_demo.py',
    '../_base_/demo_runtime.py',
]

model = dict(
    type='MoCo',
    queue_len=1024,
    feat_dim=128,
    momentum=0.001,
    # the demo's trunk; MMPretrain's MoCo v2 keeps zero_init_residual=False
    backbone=dict(
        depth=18, stem_channels=16, base_channels=16,
        zero_init_residual=False),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=128,
        hid_channels=128,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.2))

# the shapes data and loader of the PIRL demo, with MoCo v2's two views
view_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=64,
        crop_ratio_range=(0.2, 1.),
        backend='pillow'),
    # = RandomApply([ColorJitter(0.4, 0.4, 0.4, 0.1)], 0.8) +
    #   RandomGrayscale(0.2), without mmcv's numpy-2 hue crash
    dict(
        type='PIRLColorJitter',
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.1,
        prob=0.8,
        gray_prob=0.2),
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]
train_pipeline = [
    dict(type='RobustLoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# MoCo has no memory bank: the PIRL runtime's hooks without the bank hooks.
custom_hooks = [dict(type='RNGStateHook'), dict(type='SkippedImagesHook')]
