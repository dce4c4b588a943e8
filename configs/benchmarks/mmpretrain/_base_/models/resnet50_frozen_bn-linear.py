# The paper's linear protocol over a frozen ResNet-50 (Goyal et al.'s
# benchmark): res5 average-pooled (2048-d), a per-channel BatchNorm (a fixed
# affine map at test time, so the classifier stays linear) and a linear
# layer, through MultiLayerLinearClsHead; the per-layer probes list more
# layers in the same head. Backbone and checkpoint: resnet50_frozen_linear.py.
_base_ = ['resnet50_frozen_linear.py']
model = dict(
    neck=None,
    head=dict(
        _delete_=True,
        type='MultiLayerLinearClsHead',
        num_classes=1000,
        in_channels=(2048, ),
        layer_names=('res5', ),
        pool_sizes=('avg', ),
        with_bn=True))
