# The demo schedule: 20 epochs of SGD (lr 0.06 for one process of 64
# images) with a cosine decay to 1/100 of it, stepped per iteration.
_base_ = ['pirl_sgd_coslr.py']

max_epochs = 20
optim_wrapper = dict(optimizer=dict(lr=0.06))
param_scheduler = [
    dict(
        _base_.param_scheduler[0],
        T_max=max_epochs,
        eta_min_ratio=1e-2,
        end=max_epochs,
        convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs)
