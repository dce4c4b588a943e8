# The linear-probe schedule of the benchmark of Goyal et al. (ICCV 2019)
# that the PIRL paper evaluates with, as in its public VISSL config:
# batch 256 (8 x 32), SGD with Nesterov momentum 0.9, weight decay 5e-4 (not
# on BatchNorm), lr 0.01 divided by 10 at epochs 8, 16 and 24, 28 epochs,
# validation every epoch. The iNat18 and Places205 probes keep the
# optimiser and change the epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='SGD', lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[8, 16, 24], gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=28, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
