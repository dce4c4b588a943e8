# Semi-supervised fine-tuning on the shapes demo: the whole PIRL ResNet-18
# plus a linear classifier, trained on a class-balanced 10% of the demo's
# training labels, evaluated on data/pirl_demo/test.
#
#   python tools/dataset_converters/make_semi_supervised_subset.py \
#     --image-root data/pirl_demo/train --percent 10 --seed 0 \
#     --out data/pirl_demo/meta/train_10pct_seed0.txt
#   python tools/train.py \
#     configs/benchmarks/mmpretrain/pirl_resnet18_semisup-10pct_shapes-demo.py \
#     --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/pirl_resnet18_1xb64-coslr-20e_shapes-demo/epoch_20.pth
_base_ = ['pirl_resnet18_per-layer-linear_shapes-demo.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=18,
        out_indices=(3, ),
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='PASS --cfg-options '
            'model.backbone.init_cfg.checkpoint=PATH_TO_PIRL_CHECKPOINT',
            prefix='backbone.')),
    neck=dict(_delete_=True, type='GlobalAveragePooling'),
    head=dict(
        _delete_=True,
        type='LinearClsHead',
        num_classes={{_base_.num_classes}},
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))

train_dataloader = dict(
    batch_size=16, dataset=dict(ann_file='meta/train_10pct_seed0.txt'))
val_evaluator = dict(_delete_=True, type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(lr=0.05, weight_decay=0.0),
    paramwise_cfg=dict(_delete_=True))
