# PIRL ResNet-50 with MLP heads: the authors' VISSL variant
# (configs/config/pretrain/pirl/models/resnet50_mlphead.yaml of VISSL
# 0.1.6), whose weights are in VISSL's model zoo; layers in the order and
# at the indices of VISSL's `mlp` heads, so tools/model_converters/
# vissl_to_pirl.py maps them one to one (docs/vissl_weights.md).
_base_ = ['pirl_r50.py']
model = dict(
    # head f: 2048 -> 2048 -> ReLU -> 128 (VISSL head 1, "use_relu": True)
    neck=dict(
        _delete_=True,
        type='PIRLMLPNeck',
        in_channels=2048,
        hid_channels=2048,
        out_channels=128,
        with_relu=True),
    # head g: per patch 2048 -> 2048 -> ReLU -> 128 -> ReLU
    # (skip_last_layer_relu_bn: False), concat of 9, 1152 -> 128
    transform_neck=dict(hid_channels=2048, last_relu=True),
    # VISSL's MLP-head configs train with loss_type cross_entropy
    # (InfoNCE) at temperature 0.1
    head=dict(loss_type='infonce', temperature=0.1))
