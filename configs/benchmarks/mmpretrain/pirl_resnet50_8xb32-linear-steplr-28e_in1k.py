# The paper's ImageNet linear protocol (PIRL 63.6 top-1): a linear
# classifier on res5 features after global average pooling (2048-d) of the
# frozen ResNet-50, trained with SGD. The schedule is the one of the
# benchmark of Goyal et al. (ICCV 2019) that the paper evaluates with, as in
# its public VISSL config: batch 256 (8 x 32), SGD momentum 0.9 Nesterov,
# lr 0.01 divided by 10 at epochs 8, 16 and 24, 28 epochs, weight decay
# 5e-4 (not on the BN), and a per-channel BatchNorm before the linear layer
# (a fixed affine map at test time, so the classifier stays linear).
#
#   bash tools/dist_train.sh \
#     configs/benchmarks/mmpretrain/pirl_resnet50_8xb32-linear-steplr-28e_in1k.py 8 \
#     --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/pirl/epoch_800.pth
_base_ = [
    '_base_/models/resnet50_frozen_bn-linear.py',
    '_base_/datasets/imagenet_bs32.py',
    '_base_/schedules/linear_sgd_steplr_28e.py',
    '_base_/default_runtime.py',
]
