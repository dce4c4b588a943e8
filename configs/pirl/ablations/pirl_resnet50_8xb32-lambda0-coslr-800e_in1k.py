# Ablation of lambda (the paper: 0.5 is best): PIRL ResNet-50 ImageNet with
# loss_lambda = 0, everything else as
# configs/pirl/pirl_resnet50_8xb32-coslr-800e_in1k.py.
# lambda = 0 is NPID (no transformed-view term; the jigsaw branch still runs
# but gets no gradient).
_base_ = ['../pirl_resnet50_8xb32-coslr-800e_in1k.py']

model = dict(head=dict(loss_lambda=0))
