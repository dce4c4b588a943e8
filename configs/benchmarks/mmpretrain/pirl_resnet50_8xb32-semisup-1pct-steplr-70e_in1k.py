# Semi-supervised ImageNet: fine-tune the whole PIRL ResNet-50 (plus a new
# linear classifier on the pooled res5) on 1% of the training labels, and
# evaluate on the full validation set (paper, PIRL: 57.2 top-5).
#
# 1. Write the label subset once (class-balanced, seeded; 13 images per
#    class, 13,000 images; the seed-0 1% subset is inside the 10% one):
#      python tools/dataset_converters/make_semi_supervised_subset.py \
#        --image-root data/imagenet/train --percent 1 --seed 0 \
#        --out data/imagenet/meta/train_1pct_seed0.txt
#    (or --ann-file data/imagenet/meta/train.txt instead of --image-root)
# 2. Fine-tune:
#      bash tools/dist_train.sh \
#        configs/benchmarks/mmpretrain/pirl_resnet50_8xb32-semisup-1pct-steplr-70e_in1k.py 8 \
#        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/pirl/epoch_800.pth
#
# Schedule (the paper gives no fine-tuning recipe; this is the one of the
# public VISSL semi-supervised config): batch 256, SGD Nesterov momentum
# 0.9, no weight decay, lr 0.05 divided by 10 at epoch 30, 70 epochs.
_base_ = [
    '_base_/models/resnet50_frozen_linear.py',
    '_base_/datasets/imagenet_bs32.py',
    '_base_/default_runtime.py',
]

label_subset = 'meta/train_1pct_seed0.txt'

# fine-tune every layer, BN statistics included
model = dict(backbone=dict(frozen_stages=-1, norm_eval=False))

train_dataloader = dict(
    dataset=dict(ann_file=label_subset, data_prefix='train'))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='SGD', lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.0))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[30], gamma=0.1)
]
# 50 iterations per epoch at 1%: validate (50k images) every 10 epochs
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=70, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    checkpoint=dict(interval=10, max_keep_ckpts=2, save_best='auto'))
auto_scale_lr = dict(base_batch_size=256)
