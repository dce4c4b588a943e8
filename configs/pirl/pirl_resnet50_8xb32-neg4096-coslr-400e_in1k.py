# PIRL (jigsaw) under the setting of the paper's Table 5 (400 epochs, 4,096
# negatives): the reference for the rotation and jigsaw+rotation configs.
_base_ = [
    '../_base_/models/pirl_r50.py',
    '../_base_/datasets/imagenet_pirl.py',
    '../_base_/schedules/pirl_sgd_coslr_400e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_negatives=4096))
