# Standard MMPretrain linear probe (as mmpretrain's
# `resnet50_8xb32-linear-coslr-100e_in1k`, formerly mmselfsup's
# `resnet50_linear-8xb32-coslr-100e_in1k`): frozen ResNet-50 (BN statistics
# frozen), global average pooled res5 (2048-d), one linear layer, SGD
# lr 0.3 / wd 1e-6, cosine over 100 epochs, 8 GPUs x 32 images.
#
#   bash tools/dist_train.sh \
#     configs/benchmarks/mmpretrain/pirl_resnet50_8xb32-linear-coslr-100e_in1k.py 8 \
#     --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/pirl/epoch_800.pth
_base_ = [
    '_base_/models/resnet50_frozen_linear.py',
    '_base_/datasets/imagenet_bs32.py',
    '_base_/default_runtime.py',
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.3, momentum=0.9, weight_decay=1e-6))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=100, by_epoch=True, begin=0, end=100)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
