# PIRL ResNet-50-w2 with MLP heads: the authors' VISSL variant
# configs/config/pretrain/pirl/models/resnet50_w2_mlphead.yaml. Its head f
# has no ReLU between the two layers: the YAML puts "use_relu": True
# outside the layer's dict, where VISSL ignores it (VISSL 0.1.6 builds
# Linear-Linear, keys clf.0 and clf.1; tests/data/vissl_pirl_layout.json).
_base_ = ['pirl_r50_mlphead.py']
model = dict(
    backbone=dict(stem_channels=128, base_channels=128),
    neck=dict(in_channels=4096, hid_channels=4096, with_relu=False),
    transform_neck=dict(in_channels=4096, hid_channels=4096))
