# ImageNet-1k train split for PIRL pre-training (labels are not used).
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

train_pipeline = [
    # CMYK, greyscale and 16-bit images converted the same way every time;
    # an undecodable file stops the run naming it (skip_bad_images=True
    # skips and counts such files instead)
    dict(type='RobustLoadImageFromFile'),
    # The two PIRL views as the authors' released config makes them (VISSL
    # pirl_jigsaw_4node_resnet50.yaml, DATA.TRAIN.TRANSFORMS):
    # ImgPilToPatchesAndImage -> [224 image view (RandomResizedCrop, scale
    # 0.08-1)] + 9 x [64x64 patches of a 255 crop (scale 0.6-1), one per
    # 85x85 cell at a random offset], shuffled by a random permutation; then
    # on every one of the ten views independently ColorJitter(0.4, 0.4, 0.4,
    # hue=0.2), ImgPilRandomPhotometric(p=0.66), RandomGrayscale(0.2) and
    # RandomHorizontalFlip. docs/authors_recipe.md lists each setting.
    dict(
        type='PIRLJigsawTransform',
        img_size=224,
        img_crop_scale=(0.08, 1.0),
        jigsaw_crop_size=255,
        jigsaw_crop_scale=(0.6, 1.0),
        grid_size=3,
        patch_size=64,
        recipe='vissl_pirl'),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=32,  # the authors': BATCHSIZE_PER_REPLICA 32
    num_workers=8,  # the authors': NUM_DATALOADER_WORKERS 8
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
