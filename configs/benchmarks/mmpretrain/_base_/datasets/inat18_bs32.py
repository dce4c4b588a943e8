# iNaturalist 2018 (8142 species) through MMPretrain's `CustomDataset`.
# Download train_val2018.tar.gz, train2018.json and val2018.json from
# https://github.com/visipedia/inat_comp/tree/master/2018 and unpack as
#   data/inaturalist2018/train_val2018/<kingdom>/<category_id>/*.jpg
#   data/inaturalist2018/train2018.json  data/inaturalist2018/val2018.json
# then write the annotation files once:
#   python tools/dataset_converters/make_inat18_ann_files.py \
#     data/inaturalist2018
# which creates data/inaturalist2018/meta/{train,val}.txt
# ("train_val2018/.../x.jpg category_id" lines).
dataset_type = 'CustomDataset'
data_root = 'data/inaturalist2018'

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
        ann_file='meta/train.txt',
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
        ann_file='meta/val.txt',
        pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
