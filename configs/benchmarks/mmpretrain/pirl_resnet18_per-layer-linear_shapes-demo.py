# Per-layer linear probes on the embedded shapes demo (10 classes,
# data/pirl_demo/{train,test}/<class>/*.jpg, written by
# tools/make_demo_data.py), for the ResNet-18 of
# configs/pirl/pirl_resnet18_1xb64-coslr-20e_shapes-demo.py: conv1, res2, res3,
# res4 and res5 of the frozen backbone, 64-pixel images, a few minutes on a
# CPU.
#
#   python tools/train.py \
#     configs/benchmarks/mmpretrain/pirl_resnet18_per-layer-linear_shapes-demo.py \
#     --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/pirl_resnet18_1xb64-coslr-20e_shapes-demo/epoch_20.pth
#
# Pooling grids are those of the ResNet-50 config (12, 6, 4, 3, 2); on
# 64-pixel inputs the res5 map is 2x2, so nothing is upsampled. ResNet-18
# widths give 9216, 2304, 2048, 2304 and 2048 dimensions.
_base_ = [
    '_base_/models/resnet50_frozen_bn-linear.py',
    '_base_/default_runtime.py',
]

num_classes = 10
model = dict(
    data_preprocessor=dict(num_classes=num_classes),
    backbone=dict(
        type='ResNetWithStem',
        depth=18,
        with_stem=True,
        out_indices=(0, 1, 2, 3)),
    head=dict(
        num_classes=num_classes,
        in_channels=(64, 64, 128, 256, 512),
        layer_names=('conv1', 'res2', 'res3', 'res4', 'res5'),
        pool_sizes=(12, 6, 4, 3, 2)))

data_root = 'data/pirl_demo'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CustomDataset',
        data_root=data_root,
        data_prefix='test',
        pipeline=test_pipeline))
val_evaluator = dict(type='MultiLayerAccuracy', topk=1)
test_dataloader = val_dataloader
test_evaluator = val_evaluator

max_epochs = 20
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='SGD', lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        by_epoch=True,
        begin=0,
        end=max_epochs)
]
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=10, max_keep_ckpts=1))
