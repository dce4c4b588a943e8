# Places205 (MMPretrain `Places205` dataset). Download the resized images
# (imagesPlaces205_resize.tar) and the split files (trainvalsplit_places205)
# from http://places.csail.mit.edu and unpack them as
#   data/places205/data/vision/torralba/deeplearning/images256/a/abbey/*.jpg
#   data/places205/trainvalsplit_places205/train_places205.csv
#   data/places205/trainvalsplit_places205/val_places205.csv
# (the .csv files already have "relative/path.jpg label" lines).
dataset_type = 'Places205'
data_root = 'data/places205'
data_prefix = 'data/vision/torralba/deeplearning/images256'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='trainvalsplit_places205/train_places205.csv',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='trainvalsplit_places205/val_places205.csv',
        pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
