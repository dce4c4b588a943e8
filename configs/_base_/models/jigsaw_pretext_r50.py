# Jigsaw pretext baseline with ResNet-50 (Noroozi & Favaro 2016; ResNet-50
# version after Goyal et al. 2019): the shared backbone on each of the 9
# patches, the 9 pooled features concatenated in the shuffled order, a
# |T|-way classifier of the permutation.
_base_ = ['resnet50_selfsup.py']
num_permutations = 2000
model = dict(
    type='JigsawPretext',
    # per patch: avgpool -> shared linear 2048 -> 512 + ReLU; concat of 9
    neck=dict(
        type='JigsawPretextNeck',
        in_channels=2048,
        mid_channels=512,
        num_patches=9),
    head=dict(
        type='LinearClsHead',
        num_classes=num_permutations,
        in_channels=9 * 512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
        cal_acc=True))
