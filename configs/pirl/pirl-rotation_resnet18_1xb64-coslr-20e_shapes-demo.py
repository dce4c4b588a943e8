# PIRL with rotation as the transformation, on the shapes demo (ResNet-18,
# 64-pixel image and rotated views).
_base_ = ['pirl_resnet18_1xb64-coslr-20e_shapes-demo.py']

# head g: a linear 512 -> 128 on the rotated view's pooled res5 feature,
# the same layer as head f (with its own weights)
model = dict(transform_neck=dict(_delete_=True, **_base_.model.neck))

train_pipeline = [
    dict(type='RobustLoadImageFromFile'),
    dict(
        type='PIRLRotationTransform',
        # the lighter recipe the demo was tuned and measured with (ours):
        # MoCo v2's colour jitter, no photometric op, patches not flipped
        recipe='mocov2_jitter',
        img_size=64,
        img_crop_scale=(0.2, 1.0),
        rot_size=64,
        rot_crop_scale=(0.2, 1.0)),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
