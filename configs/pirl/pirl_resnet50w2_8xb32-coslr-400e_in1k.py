# PIRL resnet50w2 on ImageNet-1k, 400 epochs: the architecture of
# the authors' VISSL model of the same name
# (configs/_base_/models/pirl_r50w2.py) with the recipe of
# pirl_resnet50_8xb32-coslr-200e_in1k.py. Pre-train further from the
# authors' weights (docs/vissl_weights.md):
#   python tools/model_converters/vissl_to_pirl.py VISSL.torch \
#       --full FULL.pth
#   bash tools/dist_train.sh CONFIG 8 --cfg-options load_from=FULL.pth
_base_ = [
    '../_base_/models/pirl_r50w2.py',
    '../_base_/datasets/imagenet_pirl.py',
    '../_base_/schedules/pirl_sgd_coslr_400e.py',
    '../_base_/default_runtime.py',
]
