# SGD with a cosine schedule, as the authors' released config (VISSL
# configs/config/pretrain/pirl/pirl_jigsaw_4node_resnet50.yaml, OPTIMIZER):
# momentum 0.9, no Nesterov, weight decay 1e-4 on conv and linear weights
# only (regularize_bn: False, regularize_bias: False), lr 0.03 per 256
# images (0.12 at the paper's 1024) decayed by a cosine to 1/1000 of it
# (0.12 -> 0.00012).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4),
    # MMEngine's DefaultOptimWrapperConstructor: no decay on BatchNorm
    # weights and biases (norm_decay_mult) nor on any other bias
    # (bias_decay_mult), the authors' regularize_bn / regularize_bias False
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))

max_epochs = 800  # the authors': num_epochs 800 (200 for the short runs)
# cosine from lr to lr / 1000, stepped once per epoch as the authors'
# (param_schedulers.lr: cosine, update_interval: epoch; MMPretrain's MoCo v2
# schedule steps per epoch too)
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min_ratio=1e-3,
        by_epoch=True,
        begin=0,
        end=max_epochs)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# lr=0.03 is for 8 GPUs x 32 images; pass --auto-scale-lr to scale it
# linearly with the real total batch (MMPretrain convention; the authors'
# auto_lr_scaling with base_lr_batch_size 256).
auto_scale_lr = dict(base_batch_size=256)
