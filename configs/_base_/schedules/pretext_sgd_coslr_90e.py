# The schedule of the Jigsaw and Rotation pretext baselines (our choice, not
# the paper's): pirl_sgd_coslr.py's SGD (momentum 0.9, wd 1e-4 on conv and
# linear weights only) from lr 0.1 per 256 images, cosine to 1/1000 of it
# over 90 epochs, stepped per iteration.
_base_ = ['pirl_sgd_coslr.py']

max_epochs = 90
optim_wrapper = dict(optimizer=dict(lr=0.1))
param_scheduler = [
    dict(
        _base_.param_scheduler[0],
        T_max=max_epochs,
        end=max_epochs,
        convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs)
