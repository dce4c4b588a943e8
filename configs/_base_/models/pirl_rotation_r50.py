# PIRL with rotation as the transformation t: I^t is an independently
# augmented crop of the image rotated by 0/90/180/270 degrees
# (PIRLRotationTransform), g is a linear 2048 -> 128 on its pooled res5
# feature (mmpretrain's LinearNeck), the rest is PIRL's.
_base_ = ['pirl_r50.py']
model = dict(
    transform_neck=dict(
        _delete_=True,
        type='LinearNeck',
        in_channels=2048,
        out_channels=128,
        gap_dim=2,
        norm_cfg=None,
        act_cfg=None))
