# PIRL with rotation as the transformation (the paper's Table 5:
# 400 epochs, 4,096 negatives), ResNet-50, ImageNet-1k, 8 GPUs x 32.
_base_ = [
    '../_base_/models/pirl_rotation_r50.py',
    '../_base_/datasets/imagenet_pirl.py',
    '../_base_/schedules/pirl_sgd_coslr_400e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_negatives=4096))

train_pipeline = [
    dict(type='RobustLoadImageFromFile'),
    # [224 image view] + [224 rotated view (0/90/180/270)]
    dict(type='PIRLRotationTransform'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
