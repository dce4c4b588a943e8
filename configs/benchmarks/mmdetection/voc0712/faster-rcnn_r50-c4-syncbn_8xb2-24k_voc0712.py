# Faster R-CNN R50-C4 on VOC07+12, BatchNorm fine-tuned with SyncBN: the
# variant that MoCo (He et al., CVPR 2020) and MMSelfSup report for
# self-supervised backbones, whose feature statistics differ from those of a
# supervised one. All layers are trained (no frozen stages), BN statistics
# and parameters are synchronised across GPUs; 24k iterations, LR 0.02 with
# 100 warm-up iterations, x0.1 at 18k and 22k; same data, multi-scale
# training and evaluation as the paper protocol.
# Not in the PIRL paper. MoCo's detector also adds a BN after res5 in the box
# head (Detectron2's Res5ROIHeadsExtraNorm), which MMDetection has no module
# for; numbers are therefore not directly comparable with MoCo's table.
# SyncBN needs a distributed launch on GPUs (tools/det_dist_train.sh); a
# single-process run reverts it to BN.
_base_ = './faster-rcnn_r50-c4_8xb2-25k_voc0712.py'

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False),
    roi_head=dict(shared_head=dict(norm_cfg=norm_cfg, norm_eval=False)))

max_iters = 24000
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[18000, 22000],
        gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.02))
