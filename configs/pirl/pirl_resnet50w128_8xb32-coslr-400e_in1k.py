# PIRL on ImageNet-1k, 400 epochs, with the architecture of the authors'
# VISSL model resnet50_w2
# (configs/_base_/models/pirl_r50w2.py) and the
# recipe of pirl_resnet50_8xb32-coslr-800e_in1k.py.
# ResNet-50-w2 is named by its base_channels (128), as resnet18w16.
# Pre-train further from the authors' weights (docs/vissl_weights.md):
#   python tools/model_converters/vissl_to_pirl.py VISSL.torch \
#       --full FULL.pth
#   bash tools/dist_train.sh CONFIG 8 --cfg-options load_from=FULL.pth
_base_ = [
    '../_base_/models/pirl_r50w2.py',
    '../_base_/datasets/imagenet_pirl.py',
    '../_base_/schedules/pirl_sgd_coslr_400e.py',
    '../_base_/default_runtime.py',
]
