"""The patch-feature neck of the Jigsaw pretext baseline."""
from typing import Optional, Tuple, Union

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import nn

from ...utils.config_errors import ConfigValueError


@MODELS.register_module()
class JigsawPretextNeck(BaseModule):
    """Per-patch projection and concatenation for the Jigsaw pretext task.

    Each patch feature (shared backbone) is average-pooled, projected by a
    linear layer shared by all patches (``in_channels -> mid_channels``,
    followed by a ReLU unless ``with_act=False``) and the ``num_patches``
    projections are concatenated in the order in which the patches arrive
    (the shuffled order), giving ``(B, num_patches * mid_channels)`` for a
    classifier over the permutations (e.g. mmpretrain's ``LinearClsHead``).
    Unlike PIRL's :class:`PIRLJigsawNeck` it is followed by a classifier, so
    the projection has a non-linearity (Noroozi & Favaro's fc6).

    Args:
        in_channels (int): backbone channels. Defaults to 2048.
        mid_channels (int): per-patch projection size. Defaults to 512.
        num_patches (int): patches per image. Defaults to 9.
        with_act (bool): ReLU after the projection. Defaults to True.
        init_cfg (dict, optional): initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 2048,
                 mid_channels: int = 512,
                 num_patches: int = 9,
                 with_act: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('in_channels', in_channels),
                            ('mid_channels', mid_channels), ('num_patches',
                                                             num_patches)):
            if int(value) < 1:
                raise ConfigValueError(
                    f'JigsawPretextNeck {name} must be >= 1, got {value}',
                    name)
        self.in_channels = in_channels
        self.num_patches = num_patches
        self.out_channels = num_patches * mid_channels
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_channels, mid_channels)
        self.act = nn.ReLU(inplace=True) if with_act else nn.Identity()

    def forward(
        self, inputs: Union[Tuple[torch.Tensor],
                            torch.Tensor]) -> Tuple[torch.Tensor]:
        """Project and concatenate the patch features.

        Args:
            inputs (tuple[Tensor] | Tensor): ``(B * num_patches, C, H, W)``
                (or ``(B * num_patches, C)``), the patches of one image
                adjacent; with a tuple the last stage is used.

        Returns:
            tuple[Tensor]: ``(B, num_patches * mid_channels)``.
        """
        x = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        if x.dim() == 4:
            x = self.avgpool(x).flatten(1)
        if x.size(1) != self.in_channels:
            raise ValueError(
                f'JigsawPretextNeck expects {self.in_channels}-channel '
                f'features but got {x.size(1)}: set in_channels to the '
                "backbone's output channels (2048 for ResNet-50, 512 for "
                'ResNet-18)')
        if x.size(0) % self.num_patches:
            raise ValueError(
                f'JigsawPretextNeck got {x.size(0)} patch features, not a '
                f'multiple of num_patches={self.num_patches}')
        x = self.act(self.fc(x))
        return (x.reshape(-1, self.out_channels), )
