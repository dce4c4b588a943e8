# The trunk every self-supervised model here starts from (PIRL, the Jigsaw
# and Rotation baselines, MoCo v2): ResNet-50 with BatchNorm, its res5 map
# as the output, and the input normalisation of the authors' released
# config, Normalize(mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225])
# on RGB, in 0-255 units. The model files next to this one add the type,
# the necks and the head.
model = dict(
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
        norm_cfg=dict(type='BN'),
        # authors' config: VISSL's trunk default
        # MODEL.TRUNK.RESNETS.ZERO_INIT_RESIDUAL: False (vissl/config/
        # defaults.yaml), not overridden by pirl_jigsaw_4node_resnet50.yaml;
        # MMPretrain's ResNet defaults to True, its MoCo v2 config sets
        # False too. The small CPU configs pin True (docs/small_data.md).
        zero_init_residual=False))
