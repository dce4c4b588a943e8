# SGD with a cosine schedule (the paper: 0.12 -> 0.00012 for batch 1024;
# 0.03 for batch 256, scaled with the total batch by auto_scale_lr).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4))

max_epochs = 800
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min_ratio=1e-3,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# lr=0.03 is for 8 GPUs x 32 images; pass --auto-scale-lr to scale it
# linearly with the real total batch (MMPretrain convention).
auto_scale_lr = dict(base_batch_size=256)
