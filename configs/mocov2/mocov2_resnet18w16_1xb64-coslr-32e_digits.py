# MMPretrain's MoCo v2 on scikit-learn's handwritten digits
# (pirl_plugin.datasets.digits.make_digits_dataset: 1,257 training images
# of 8 x 8 digits upscaled to 64 px), at the budget and geometry of the
# PIRL digits runs of docs/small_data.md: batch 64, 32 epochs = 608
# iterations, the same optimiser and cosine schedule, 32-px views (the
# digits hold 8 x 8 pixels of information; a 32-px view costs a quarter of
# a 64-px one). Everything else (backbone, queue 1,024, tau 0.2, the
# PIRLColorJitter substitution for mmcv's numpy-2 hue crash) is
# mocov2_resnet18w16_1xb64-coslr-20e_shapes-demo.py.
_base_ = ['mocov2_resnet18w16_1xb64-coslr-20e_shapes-demo.py']

max_epochs = 32
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min_ratio=1e-2,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=8))
view_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=32,
        crop_ratio_range=(0.2, 1.),
        backend='pillow'),
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
train_dataloader = dict(
    dataset=dict(data_root='data/digits/train', pipeline=train_pipeline))
