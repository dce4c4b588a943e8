# Per-layer ImageNet linear probes (paper, PIRL: conv1 6.2, res2 30.0,
# res3 40.1, res4 56.6, res5 63.6 top-1): five linear classifiers, on conv1
# (the stem), res2, res3, res4 and res5 of one frozen ResNet-50, trained
# together in one run (independent losses `loss_<layer>`). Each layer is
# average-pooled to about 9k dimensions (adaptive pooling to a per-layer
# grid, as in the Goyal et al. benchmark): conv1 64x12x12 = 9216,
# res2 256x6x6 = 9216, res3 512x4x4 = 8192, res4 1024x3x3 = 9216,
# res5 2048x2x2 = 8192, then BatchNorm + linear. Schedule of that benchmark:
# batch 256, SGD Nesterov momentum 0.9, lr 0.01 / 10 at epochs 8, 16, 24,
# 28 epochs, weight decay 5e-4. The evaluator reports layer_top1/<layer>
# and layer_top5/<layer> (plus layer_top*/best).
#
#   bash tools/dist_train.sh \
#     configs/benchmarks/mmpretrain/pirl_resnet50_per-layer-linear_in1k.py 8 \
#     --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/pirl/epoch_800.pth
_base_ = [
    '_base_/models/resnet50_frozen_bn-linear.py',
    '_base_/datasets/imagenet_bs32.py',
    '_base_/schedules/linear_sgd_steplr_28e.py',
    '_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        type='ResNetWithStem', with_stem=True, out_indices=(0, 1, 2, 3)),
    head=dict(
        in_channels=(64, 256, 512, 1024, 2048),
        layer_names=('conv1', 'res2', 'res3', 'res4', 'res5'),
        pool_sizes=(12, 6, 4, 3, 2)))

val_evaluator = [
    dict(type='MultiLayerAccuracy', topk=1),
    dict(type='MultiLayerAccuracy', topk=5),
]
test_evaluator = val_evaluator
