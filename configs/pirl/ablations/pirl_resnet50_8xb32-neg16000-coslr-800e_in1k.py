# Ablation of the number of negatives N (the paper: more help): PIRL
# ResNet-50 ImageNet with N = 16000 negatives per data point, everything else
# as configs/pirl/pirl_resnet50_8xb32-coslr-800e_in1k.py.
_base_ = ['../pirl_resnet50_8xb32-coslr-800e_in1k.py']

model = dict(head=dict(num_negatives=16000))
