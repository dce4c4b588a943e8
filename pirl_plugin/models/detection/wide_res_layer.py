"""The res5 RoI head of a wide ResNet (Faster R-CNN C4)."""
from mmdet.models.backbones.resnet import ResNet
from mmdet.models.layers import ResLayer as _ResLayer
from mmdet.models.roi_heads.shared_heads import ResLayer
from mmdet.registry import MODELS


@MODELS.register_module()
class WideResLayer(ResLayer):
    """MMDetection's ``ResLayer`` shared head with a ``base_channels``
    option: the stage's channel counts are ``base_channels / 64`` times
    those of a plain ResNet, as in the backbone ``ResNet(base_channels=
    ...)`` (MMDetection's ``ResLayer`` fixes them to 64 * 2**stage).

    Args:
        depth (int): ResNet depth.
        base_channels (int): the backbone's ``base_channels`` (128 for a
            ResNet-50-w2). Defaults to 64.
        stage (int): the stage it runs (3: res5). Defaults to 3.
        **kwargs: the other arguments of ``ResLayer`` (stride, dilation,
            style, norm_cfg, norm_eval, with_cp, dcn, init_cfg).
    """

    def __init__(self,
                 depth: int,
                 base_channels: int = 64,
                 stage: int = 3,
                 **kwargs) -> None:
        super().__init__(depth, stage=stage, **kwargs)
        if base_channels == 64:
            return
        block, stage_blocks = ResNet.arch_settings[depth]
        planes = base_channels * 2**stage
        self.add_module(
            f'layer{stage + 1}',
            _ResLayer(
                block,
                base_channels * 2**(stage - 1) * block.expansion,
                planes,
                stage_blocks[stage],
                stride=kwargs.get('stride', 2),
                dilation=kwargs.get('dilation', 1),
                style=kwargs.get('style', 'pytorch'),
                with_cp=kwargs.get('with_cp', False),
                norm_cfg=self.norm_cfg,
                dcn=kwargs.get('dcn')))
