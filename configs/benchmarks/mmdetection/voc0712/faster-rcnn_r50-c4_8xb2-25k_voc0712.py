# Faster R-CNN R50-C4 on VOC07+12 from a PIRL-pretrained ResNet-50: the
# protocol of the PIRL paper (Misra & van der Maaten, CVPR 2020, Sec. 4.2;
# the schedule of Goyal et al., ICCV 2019):
#   train VOC07+12 trainval, test VOC07 test; 8 GPUs x 2 images = 16;
#   25k iterations, LR 0.003 with 1000 linear warm-up iterations, x0.1 at 17k;
#   BatchNorm frozen (statistics and affine parameters); multi-scale training
#   (shorter side 480-800 step 32), test at shorter side 800;
#   AP = COCO-style mean over IoU 0.50:0.95, AP50, AP75 (VOC07 11-point AP).
# Paper, PIRL 800 epochs: 54.0 AP / 80.7 AP50 / 59.7 AP75.
#
# Launch (the launcher sets the pretrained checkpoint of the backbone and of
# the res5 RoI head, see docs/detection.md):
#   bash tools/det_dist_train.sh CONFIG 8 checkpoints/pirl_r50_backbone.pth
# With MMDetection's own tools/train.py set both init_cfg checkpoints:
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT \
#       model.roi_head.shared_head.init_cfg.checkpoint=CKPT
_base_ = 'mmdet::pascal_voc/faster-rcnn_r50-caffe-c4_ms-18k_voc0712.py'
custom_imports = dict(imports=['pirl_plugin'], allow_failed_imports=False)

# The backbone-only checkpoint from tools/model_converters/pirl_to_backbone.py.
# tools/det_train.py replaces it with its PRETRAINED argument.
pretrained = 'checkpoints/pirl_r50_backbone.pth'

# Frozen BatchNorm: no gradient to the affine parameters, running statistics
# kept from pre-training (norm_eval). frozen_stages=1 freezes the stem and
# res2, as Detectron2's default FREEZE_AT=2.
norm_cfg = dict(type='BN', requires_grad=False)
model = dict(
    # PIRL was pre-trained on RGB images normalised with the ImageNet mean
    # and std: replace the caffe-style (BGR, mean only) preprocessor of the
    # C4 base. It must sit inside `model`: a top-level `data_preprocessor`
    # does not override this one.
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        depth=50,
        frozen_stages=1,
        norm_cfg=norm_cfg,
        norm_eval=True,
        # MMPretrain's ResNet (PIRL's backbone) puts the stride in the 3x3
        # convolution: pytorch style, not the caffe style of the base.
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    roi_head=dict(
        # res5 runs on the RoIs: it is initialised from the same checkpoint
        # (its keys `layer4.*` match the backbone checkpoint).
        shared_head=dict(
            depth=50,
            norm_cfg=norm_cfg,
            norm_eval=True,
            style='pytorch',
            init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
        bbox_head=dict(num_classes=20)))

# VOC2007 and VOC2012 carry different `dataset_type` metainfo: the
# ConcatDataset must ignore it, or building it fails.
train_dataloader = dict(
    batch_size=2, dataset=dict(ignore_keys=['dataset_type']))

# COCO-style AP over IoU 0.50:0.95 on VOC07 test, plus AP50 and AP75.
# VOCMetric logs `pascal_voc/AP50`, ..., `pascal_voc/AP95` and their mean
# `pascal_voc/mAP` (= AP); tools/det_test.py prints AP / AP50 / AP75.
val_evaluator = dict(
    type='VOCMetric',
    metric='mAP',
    eval_mode='11points',
    iou_thrs=[0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
test_evaluator = val_evaluator

max_iters = 25000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=5000)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=1000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[17000],
        gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.003, momentum=0.9, weight_decay=0.0001))
# LR 0.003 is for 16 images per step (8 GPUs x 2); `--auto-scale-lr` scales
# it to another total batch size.
auto_scale_lr = dict(enable=False, base_batch_size=16)

default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=5000, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
