# Rotation pretext baseline with ResNet-50 (Gidaris et al. 2018): every
# image rotated by 0/90/180/270 degrees in the model, 4-way classification
# of the rotation from the pooled res5 feature.
_base_ = ['resnet50_selfsup.py']
model = dict(
    type='RotationPretext',
    angles=(0, 90, 180, 270),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=4,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, ),
        cal_acc=True))
