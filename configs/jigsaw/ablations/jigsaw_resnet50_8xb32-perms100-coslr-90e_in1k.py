# Ablation of the number of permutations |T| for the Jigsaw baseline (the
# paper: more do not help Jigsaw): configs/jigsaw/
# jigsaw_resnet50_8xb32-coslr-90e_in1k.py with |T| = 100 permutations of
# maximal minimal Hamming distance (seed 0).
_base_ = ['../jigsaw_resnet50_8xb32-coslr-90e_in1k.py']

num_permutations = 100
model = dict(head=dict(num_classes=num_permutations))
train_pipeline = _base_.train_pipeline
train_pipeline[1].permutations = num_permutations  # JigsawPretextTransform
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
