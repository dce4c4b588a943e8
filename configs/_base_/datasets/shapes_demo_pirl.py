# The generated shapes dataset (tools/make_demo_data.py) with PIRL's jigsaw
# views at demo size: a 64-pixel image view and 28-pixel patches of a
# 96-pixel crop (3 x 3 cells of 32). Any nested folder of images works as
# `data_root` (labels are not used).
data_root = 'data/pirl_demo/train'
train_pipeline = [
    # decodes every image the same way; stops naming an undecodable file
    # (skip_bad_images=True skips and counts such files instead)
    dict(type='RobustLoadImageFromFile'),
    dict(
        type='PIRLJigsawTransform',
        # the lighter recipe the demo was tuned and measured with (ours):
        # MoCo v2's colour jitter, no photometric op, patches not flipped
        recipe='mocov2_jitter',
        img_size=64,
        img_crop_scale=(0.2, 1.0),
        jigsaw_crop_size=96,
        jigsaw_crop_scale=(0.6, 1.0),
        patch_size=28),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    pin_memory=False,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CustomDataset',
        data_root=data_root,
        with_label=False,
        pipeline=train_pipeline))
