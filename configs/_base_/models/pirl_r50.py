# PIRL with ResNet-50 (Misra & van der Maaten, CVPR 2020). Each setting
# follows the paper and the authors' released config (VISSL
# configs/config/pretrain/pirl/pirl_jigsaw_4node_resnet50.yaml); the table
# in docs/authors_recipe.md lists them with their source lines. The trunk
# (ResNet-50, the authors' input normalisation): resnet50_selfsup.py.
_base_ = ['resnet50_selfsup.py']
model = dict(
    type='PIRL',
    # head f: linear 2048 -> 128 on the pooled res5 feature of the image
    # (paper Sec. 4.1; authors' HEAD.PARAMS[1]: mlp [2048, 128])
    neck=dict(
        type='LinearNeck',
        in_channels=2048,
        out_channels=128,
        gap_dim=2,
        norm_cfg=None,
        act_cfg=None),
    # head g: shared linear 2048 -> 128 per patch, concat of 9, 1152 -> 128
    # (authors' HEAD.PARAMS[0]: mlp [2048, 128], siamese_concat_view 9,
    # mlp [1152, 128])
    transform_neck=dict(
        type='PIRLJigsawNeck',
        in_channels=2048,
        mid_channels=128,
        out_channels=128,
        num_patches=9),
    # the authors' LOSS.nce_loss_with_memory: NCE, temperature 0.07, loss
    # weights [0.5, 0.5], 32000 random negatives, normalised embeddings.
    # Ours: Z re-estimated every iteration (the authors freeze the first
    # batch's, which collapsed in our tests, see NCEHead), the same
    # negatives for both terms, never the positive (paper: I' != I).
    head=dict(
        type='NCEHead',
        loss_type='nce',
        temperature=0.07,
        num_negatives=32000,
        loss_lambda=0.5,
        shared_negatives=False),
    # the authors' memory_params: 128-d, momentum 0.5, random unit-norm init,
    # updated with the image view's embedding after the step;
    # num_samples is set by BankUpdateHook from the dataset length
    memory_bank=dict(type='MemoryBank', feat_dim=128, momentum=0.5))
