# Ablation of the number of permutations |T| (the paper: more help PIRL):
# PIRL ResNet-50 ImageNet whose jigsaw view uses all 9! = 362,880
# permutations (the default); everything else as
# configs/pirl/pirl_resnet50_8xb32-coslr-800e_in1k.py.
_base_ = ['../pirl_resnet50_8xb32-coslr-800e_in1k.py']

train_pipeline = _base_.train_pipeline
train_pipeline[1].update(  # PIRLJigsawTransform
    permutations='all',
    permutation_method='hamming',
    permutation_seed=0)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
