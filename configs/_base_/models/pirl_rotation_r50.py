# PIRL with rotation as the transformation t: I^t is an independently
# augmented crop of the image rotated by 0/90/180/270 degrees
# (PIRLRotationTransform), g is a linear 2048 -> 128 on its pooled res5
# feature (mmpretrain's LinearNeck, the same layer as head f, with its own
# weights), the rest is PIRL's.
_base_ = ['pirl_r50.py']
model = dict(transform_neck=dict(_delete_=True, **_base_.model.neck))
