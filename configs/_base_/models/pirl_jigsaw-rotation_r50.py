# PIRL with jigsaw and rotation together (the paper's Table 5):
# L = lam * (L(m_I, g_jig) + L(m_I, g_rot)) / 2 + (1 - lam) * L(m_I, f).
# Views: [224 image] + 9 x [64 patches] + [224 rotated] from
# PIRLJigsawRotationTransform. Trunk, head f, bank and loss settings are
# pirl_r50.py's; g_jig is its jigsaw head g, g_rot the rotation head of
# pirl_rotation_r50.py (a linear layer like f, with its own weights).
_base_ = ['pirl_r50.py']
model = dict(
    _delete_=True,
    type='PIRLMultiTransform',
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=_base_.model.backbone,
    neck=_base_.model.neck,  # head f
    transforms=[
        dict(name='jigsaw', num_views=9, neck=_base_.model.transform_neck),
        dict(name='rotation', num_views=1, neck=_base_.model.neck),
    ],
    head=dict(
        _base_.model.head,
        type='MultiNCEHead',
        transform_names=('jigsaw', 'rotation'),
        transform_weights=None),  # equal
    memory_bank=_base_.model.memory_bank)
