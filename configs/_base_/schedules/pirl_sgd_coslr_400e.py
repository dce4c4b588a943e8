# pirl_sgd_coslr.py over 400 epochs: the same cosine, from lr to lr / 1000,
# stepped per epoch (the paper's Table 5 setting).
_base_ = ['pirl_sgd_coslr.py']

max_epochs = 400
param_scheduler = [
    dict(_base_.param_scheduler[0], T_max=max_epochs, end=max_epochs)
]
train_cfg = dict(max_epochs=max_epochs)
