# pirl_sgd_coslr.py over 200 epochs: the same cosine, from lr to lr / 1000,
# stepped per epoch (the authors' short runs).
_base_ = ['pirl_sgd_coslr.py']

max_epochs = 200
param_scheduler = [
    dict(_base_.param_scheduler[0], T_max=max_epochs, end=max_epochs)
]
train_cfg = dict(max_epochs=max_epochs)
