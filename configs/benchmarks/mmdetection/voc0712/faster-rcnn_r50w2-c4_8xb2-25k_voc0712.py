# Faster R-CNN R50-C4 on VOC07+12 (faster-rcnn_r50-c4_8xb2-25k_voc0712.py,
# the paper's protocol) on a ResNet-50-w2 trunk: every channel count
# doubled (VISSL's WIDTH_MULTIPLIER 2), so res4 is 2048-d and the res5 RoI
# head 4096-d. For the authors' PIRL ResNet-50-w2 of VISSL's zoo,
# converted with tools/model_converters/vissl_to_pirl.py --backbone
# (docs/vissl_weights.md):
#   bash tools/det_dist_train.sh CONFIG 8 checkpoints/pirl_r50w2_backbone.pth
_base_ = ['faster-rcnn_r50-c4_8xb2-25k_voc0712.py']
custom_imports = dict(
    imports=['pirl_plugin', 'pirl_plugin.models.detection'],
    allow_failed_imports=False)

pretrained = 'checkpoints/pirl_r50w2_backbone.pth'
model = dict(
    backbone=dict(
        base_channels=128,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    rpn_head=dict(in_channels=2048, feat_channels=2048),
    roi_head=dict(
        shared_head=dict(
            type='WideResLayer',
            base_channels=128,
            init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
        bbox_roi_extractor=dict(out_channels=2048),
        bbox_head=dict(in_channels=4096)))
