# Semi-supervised ImageNet with 10% of the labels (paper, PIRL: 83.8 top-5).
# Same recipe as the 1% config; write the subset first (128 images per
# class, 128,000 images):
#   python tools/dataset_converters/make_semi_supervised_subset.py \
#     --image-root data/imagenet/train --percent 10 --seed 0 \
#     --out data/imagenet/meta/train_10pct_seed0.txt
# then
#   bash tools/dist_train.sh \
#     configs/benchmarks/mmpretrain/pirl_resnet50_8xb32-semisup-10pct-steplr-70e_in1k.py 8 \
#     --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/pirl/epoch_800.pth
_base_ = ['pirl_resnet50_8xb32-semisup-1pct-steplr-70e_in1k.py']

label_subset = 'meta/train_10pct_seed0.txt'
train_dataloader = dict(dataset=dict(ann_file=label_subset))
train_cfg = dict(val_interval=2)
default_hooks = dict(checkpoint=dict(interval=2))
