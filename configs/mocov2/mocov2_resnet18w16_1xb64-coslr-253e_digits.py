# MMPretrain's MoCo v2 at the budget of
# configs/pirl/pirl_resnet18w16_1xb64-coslr-253e_digits.py: the same
# network (standard init), optimiser, schedule, batch and 4,807 iterations
# on the digits, for tools/analysis/compare_mocov2.py.
_base_ = ['mocov2_resnet18w16_1xb64-coslr-32e_digits.py']

max_epochs = 253
param_scheduler = [
    dict(_base_.param_scheduler[0], T_max=max_epochs, end=max_epochs)
]
train_cfg = dict(max_epochs=max_epochs)
model = dict(backbone=dict(zero_init_residual=False))
default_hooks = dict(checkpoint=dict(interval=50))
