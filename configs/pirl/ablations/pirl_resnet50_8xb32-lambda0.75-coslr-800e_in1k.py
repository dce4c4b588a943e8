# Ablation of lambda (the paper: 0.5 is best): PIRL ResNet-50 ImageNet with
# loss_lambda = 0.75, everything else as
# configs/pirl/pirl_resnet50_8xb32-coslr-800e_in1k.py.
_base_ = ['../pirl_resnet50_8xb32-coslr-800e_in1k.py']

model = dict(head=dict(loss_lambda=0.75))
