# Ablation of lambda (the paper: 0.5 is best): PIRL ResNet-50 ImageNet with
# loss_lambda = 1, everything else as
# configs/pirl/pirl_resnet50_8xb32-coslr-800e_in1k.py.
# lambda = 1 uses only the transformed-view term.
_base_ = ['../pirl_resnet50_8xb32-coslr-800e_in1k.py']

model = dict(head=dict(loss_lambda=1))
