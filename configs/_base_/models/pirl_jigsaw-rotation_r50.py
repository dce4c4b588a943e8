# PIRL with jigsaw and rotation together (the paper's Table 5):
# L = lam * (L(m_I, g_jig) + L(m_I, g_rot)) / 2 + (1 - lam) * L(m_I, f).
# Views: [224 image] + 9 x [64 patches] + [224 rotated] from
# PIRLJigsawRotationTransform.
model = dict(
    type='PIRLMultiTransform',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        in_channels=3,
        out_indices=[3],
        norm_cfg=dict(type='BN')),
    # head f
    neck=dict(
        type='LinearNeck',
        in_channels=2048,
        out_channels=128,
        gap_dim=2,
        norm_cfg=None,
        act_cfg=None),
    transforms=[
        dict(
            name='jigsaw',
            num_views=9,
            neck=dict(
                type='PIRLJigsawNeck',
                in_channels=2048,
                mid_channels=128,
                out_channels=128,
                num_patches=9)),
        dict(
            name='rotation',
            num_views=1,
            neck=dict(
                type='LinearNeck',
                in_channels=2048,
                out_channels=128,
                gap_dim=2,
                norm_cfg=None,
                act_cfg=None)),
    ],
    head=dict(
        type='MultiNCEHead',
        transform_names=('jigsaw', 'rotation'),
        transform_weights=None,  # equal
        loss_type='nce',
        temperature=0.07,
        num_negatives=32000,
        loss_lambda=0.5,
        shared_negatives=False),
    memory_bank=dict(type='MemoryBank', feat_dim=128, momentum=0.5))
