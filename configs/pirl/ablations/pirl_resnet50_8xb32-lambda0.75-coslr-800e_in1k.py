# Ablation of lambda (the paper: 0.5 is best): PIRL ResNet-50 ImageNet with
# loss_lambda = 0.75, everything else as configs/pirl_r50_8xb32_imagenet.py.
_base_ = ['../pirl_r50_8xb32_imagenet.py']

model = dict(head=dict(loss_lambda=0.75))
