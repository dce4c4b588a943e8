# The embedded demo (`make demo`, tools/demo.py): PIRL on the procedural
# shapes dataset (tools/make_demo_data.py) with a narrow ResNet-18, so that
# pre-training shows learning on 2 CPU cores in a few minutes. For your own
# folder of images change `train_dataloader.dataset.data_root` (any nested
# folder of images works: labels are not used).
#
# What differs from the paper's recipe, and why (measured on the demo data,
# kNN top-1 of the frozen backbone; see the README's demo section):
# - ResNet-18 with 16 base channels instead of 64 (res5 is 128-d): 1/16 of
#   the FLOPs, so 20 epochs take about 5 minutes on 2 cores instead of more
#   than 40 for the full-width network.
# - InfoNCE with tau = 0.2 instead of the paper's NCE with tau = 0.07: with
#   the paper's loss the bank collapsed at this scale (mean similarity of
#   bank entries 0.96, both terms near the collapse value log(N + 1) + 1)
#   and the kNN top-1 reached 39.8% against 53.0% with InfoNCE (untrained,
#   zero-init residual: 34.2%).
# - Small views (64-px image view, 28-px patches of a 96-px jigsaw crop) and
#   1,024 negatives, from the base config.
# Everything else (heads f and g, lambda 0.5, bank momentum 0.5, the
# augmentations) is the paper's.
_base_ = ['pirl_resnet18_1xb64-coslr-20e_shapes-demo.py']

model = dict(
    backbone=dict(stem_channels=16, base_channels=16),
    neck=dict(in_channels=128),
    transform_neck=dict(in_channels=128),
    head=dict(loss_type='infonce', temperature=0.2))
