# Places205 linear probe (paper: PIRL 49.8 top-1): the paper's protocol
# (res5 after global average pooling, BN + linear, SGD) with the Places205
# schedule of the Goyal et al. benchmark: 14 epochs, lr 0.01 divided by 10
# at epochs 4, 8 and 12, batch 256, Nesterov momentum 0.9, weight decay 5e-4.
# Data layout: see _base_/datasets/places205_bs32.py.
#
#   bash tools/dist_train.sh \
#     configs/benchmarks/mmpretrain/pirl_resnet50_8xb32-linear-steplr-14e_places205.py 8 \
#     --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/pirl/epoch_800.pth
_base_ = [
    '_base_/models/resnet50_frozen_bn-linear.py',
    '_base_/datasets/places205_bs32.py',
    '_base_/schedules/linear_sgd_steplr_28e.py',
    '_base_/default_runtime.py',
]

model = dict(
    data_preprocessor=dict(num_classes=205), head=dict(num_classes=205))

param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[4, 8, 12], gamma=0.1)
]
train_cfg = dict(max_epochs=14)
default_hooks = dict(checkpoint=dict(interval=2))
