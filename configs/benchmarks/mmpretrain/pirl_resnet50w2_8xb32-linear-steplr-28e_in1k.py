# The paper's ImageNet linear protocol (pirl_resnet50_8xb32-linear-steplr-
# 28e_in1k.py) on a ResNet-50-w2 trunk: every channel count doubled, stem
# included (VISSL's WIDTH_MULTIPLIER 2), so res5 is 4096-d. For the
# authors' PIRL ResNet-50-w2 of VISSL's zoo, converted with
# tools/model_converters/vissl_to_pirl.py --full (docs/vissl_weights.md):
#
#   bash tools/dist_train.sh \
#     configs/benchmarks/mmpretrain/pirl_resnet50w2_8xb32-linear-steplr-28e_in1k.py 8 \
#     --cfg-options model.backbone.init_cfg.checkpoint=FULL.pth
_base_ = ['pirl_resnet50_8xb32-linear-steplr-28e_in1k.py']
model = dict(
    backbone=dict(stem_channels=128, base_channels=128),
    head=dict(in_channels=(4096, )))
