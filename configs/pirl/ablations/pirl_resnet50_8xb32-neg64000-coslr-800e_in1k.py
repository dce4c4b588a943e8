# Ablation of the number of negatives N (the paper: more help): PIRL
# ResNet-50 ImageNet with N = 64000 negatives per data point, everything else
# as configs/pirl_r50_8xb32_imagenet.py.
_base_ = ['../pirl_r50_8xb32_imagenet.py']

model = dict(head=dict(num_negatives=64000))
