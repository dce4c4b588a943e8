# PIRL pre-training on the shapes demo with a kNN monitor: every
# `interval` epochs KNNMonitorHook extracts the (global-average-pooled,
# L2-normalised) res5 features of the labelled demo train and test images
# and logs the weighted kNN top-1 as `knn_top1`. Labels are only used by
# the monitor, never by PIRL.
#
#   python tools/train.py \
#     configs/benchmarks/mmpretrain/pirl_resnet18_1xb64-knn-monitor-coslr-20e_shapes-demo.py
#
# For ImageNet, add the same hook to a PIRL config with ImageNet dataloaders
# (a class-balanced subset of train as memory keeps it cheap, e.g. the 10%
# ann file of tools/dataset_converters/make_semi_supervised_subset.py) and
# interval=10 or so.
_base_ = ['../../pirl/pirl_resnet18_1xb64-coslr-20e_shapes-demo.py']

custom_imports = dict(imports=['pirl_plugin'], allow_failed_imports=False)

knn_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64)),
    dict(type='PackInputs'),
]
custom_hooks = _base_.custom_hooks + [
    dict(
        type='KNNMonitorHook',
        interval=5,
        k=20,
        temperature=0.07,
        train_dataloader=dict(
            batch_size=64,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='CustomDataset',
                data_root='data/pirl_demo',
                data_prefix='train',
                pipeline=knn_pipeline)),
        val_dataloader=dict(
            batch_size=64,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='CustomDataset',
                data_root='data/pirl_demo',
                data_prefix='test',
                pipeline=knn_pipeline)))
]
