# ImageNet-1k train split for PIRL pre-training (labels are not used).
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

train_pipeline = [
    # CMYK, greyscale and 16-bit images converted the same way every time;
    # an undecodable file stops the run naming it (skip_bad_images=True
    # skips and counts such files instead)
    dict(type='RobustLoadImageFromFile'),
    # [224x224 image view] + 9 x [64x64 jigsaw patches], paper defaults
    dict(type='PIRLJigsawTransform'),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
