# iNaturalist 2018 linear probe (paper: PIRL 34.1 top-1): the paper's
# protocol (res5 after global average pooling, BN + linear, SGD) with the
# iNat18 schedule of the Goyal et al. benchmark: 84 epochs, lr 0.01 divided
# by 10 at epochs 24, 48 and 72, batch 256, Nesterov momentum 0.9, weight
# decay 5e-4. Data layout and the one-off annotation conversion: see
# _base_/datasets/inat18_bs32.py.
#
#   bash tools/dist_train.sh \
#     configs/benchmarks/mmpretrain/pirl_resnet50_8xb32-linear-steplr-84e_inat18.py 8 \
#     --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/pirl/epoch_800.pth
_base_ = [
    '_base_/models/resnet50_frozen_bn-linear.py',
    '_base_/datasets/inat18_bs32.py',
    '_base_/schedules/linear_sgd_steplr_28e.py',
    '_base_/default_runtime.py',
]

model = dict(
    data_preprocessor=dict(num_classes=8142), head=dict(num_classes=8142))

param_scheduler = [
    dict(
        type='MultiStepLR', by_epoch=True, milestones=[24, 48, 72], gamma=0.1)
]
train_cfg = dict(max_epochs=84, val_interval=4)
