# PIRL ResNet-50-w2 (VISSL's WIDTH_MULTIPLIER 2: every channel count of the
# ResNet-50 doubled, stem included; 4096-d res5), linear heads: the
# authors' VISSL variant configs/config/pretrain/pirl/models/resnet50_w2.yaml.
_base_ = ['pirl_r50.py']
model = dict(
    backbone=dict(stem_channels=128, base_channels=128),
    neck=dict(in_channels=4096),
    transform_neck=dict(in_channels=4096))
