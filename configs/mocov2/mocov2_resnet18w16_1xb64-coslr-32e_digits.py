# MMPretrain's MoCo v2 on scikit-learn's handwritten digits
# (pirl_plugin.datasets.digits.make_digits_dataset: 1,257 training images
# of 8 x 8 digits upscaled to 64 px), at the budget and geometry of the
# PIRL digits runs of docs/small_data.md: batch 64, 32 epochs = 608
# iterations, the same optimiser and cosine schedule, 32-px views (the
# digits hold 8 x 8 pixels of information; a 32-px view costs a quarter of
# a 64-px one). Everything else (backbone, queue 1,024, tau 0.2, the
# PIRLColorJitter substitution for mmcv's numpy-2 hue crash) is
# mocov2_resnet18w16_1xb64-coslr-20e_shapes-demo.py.
_base_ = ['mocov2_resnet18w16_1xb64-coslr-20e_shapes-demo.py']

max_epochs = 32
param_scheduler = [
    dict(_base_.param_scheduler[0], T_max=max_epochs, end=max_epochs)
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=8))
# the same views at 32 px
view_pipeline = _base_.view_pipeline
view_pipeline[0].scale = 32  # RandomResizedCrop
train_pipeline = _base_.train_pipeline
train_pipeline[1].transforms = [view_pipeline]  # MultiView
train_dataloader = dict(
    dataset=dict(data_root='data/digits/train', pipeline=train_pipeline))
