"""PIRL's head g for the jigsaw view."""
from typing import Optional, Tuple, Union

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import nn
from torch.nn import functional as F

from ...utils.config_errors import ConfigValueError, check_size


def pool_features(inputs: Union[Tuple[torch.Tensor], torch.Tensor],
                  in_channels: int, owner: str) -> torch.Tensor:
    """The ``(N, C)`` globally average-pooled features of a neck's input.

    Args:
        inputs (tuple[Tensor] | Tensor): ``(N, C, H, W)`` or ``(N, C)``
            features; with a tuple the last stage is used.
        in_channels (int): the ``C`` the neck was built for.
        owner (str): the neck's name, for the error message.
    """
    x = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
    if x.dim() == 4:
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
    if x.size(1) != in_channels:
        raise ValueError(
            f'{owner} expects {in_channels}-channel features but got '
            f"{x.size(1)}: set in_channels to the backbone's output channels "
            '(2048 for ResNet-50, 4096 for ResNet-50-w2, 512 for ResNet-18)')
    return x


@MODELS.register_module()
class PIRLJigsawNeck(BaseModule):
    """Head g(v_It) of PIRL over the features of the jigsaw patches.

    Each patch feature is average-pooled and projected by a linear layer
    shared by all patches (``in_channels -> mid_channels``); the
    ``num_patches`` projections are concatenated in the (shuffled) order in
    which the patches arrive and projected again
    (``num_patches * mid_channels -> out_channels``). Both layers are linear,
    as in the paper. With ``hid_channels`` the per-patch projection is an
    MLP ``in -> hid -> ReLU -> mid`` (and a ReLU after it with
    ``last_relu``), the MLP head of the authors' VISSL models
    (``patch_fc`` is then an ``nn.Sequential`` whose Linear layers sit at
    VISSL's indices 0 and 2).

    Args:
        in_channels (int): channels of the backbone feature. Defaults to 2048.
        mid_channels (int): per-patch projection size. Defaults to 128.
        out_channels (int): output size. Defaults to 128.
        num_patches (int): patches per image. Defaults to 9.
        hid_channels (int, optional): hidden size of an MLP per-patch
            projection; None (default) keeps it a single linear layer.
        last_relu (bool): a ReLU after the MLP per-patch projection (only
            with ``hid_channels``). Defaults to False.
        init_cfg (dict, optional): initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 2048,
                 mid_channels: int = 128,
                 out_channels: int = 128,
                 num_patches: int = 9,
                 hid_channels: Optional[int] = None,
                 last_relu: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('in_channels', in_channels),
                            ('mid_channels', mid_channels), ('out_channels',
                                                             out_channels),
                            ('num_patches', num_patches), ('hid_channels',
                                                           hid_channels)):
            check_size('PIRLJigsawNeck', name, value, name == 'hid_channels')
        self.in_channels = in_channels
        self.num_patches = num_patches
        self.mid_channels = mid_channels
        if hid_channels is None:
            if last_relu:
                raise ConfigValueError(
                    'PIRLJigsawNeck last_relu=True needs hid_channels (an MLP '
                    'per-patch projection)', 'last_relu')
            self.patch_fc = nn.Linear(in_channels, mid_channels)
        else:
            layers = [
                nn.Linear(in_channels, hid_channels),
                nn.ReLU(inplace=True),
                nn.Linear(hid_channels, mid_channels)
            ]
            if last_relu:
                layers.append(nn.ReLU(inplace=True))
            self.patch_fc = nn.Sequential(*layers)
        self.fc = nn.Linear(num_patches * mid_channels, out_channels)

    def forward(
        self, inputs: Union[Tuple[torch.Tensor],
                            torch.Tensor]) -> Tuple[torch.Tensor]:
        """Project the patch features.

        Args:
            inputs (tuple[Tensor] | Tensor): backbone features of all patches,
                ``(B * num_patches, C, H, W)`` (or ``(B * num_patches, C)``)
                with the patches of one image adjacent and in their shuffled
                order; with a tuple the last stage is used.

        Returns:
            tuple[Tensor]: ``(B, out_channels)``.
        """
        x = pool_features(inputs, self.in_channels, 'PIRLJigsawNeck')
        if x.size(0) % self.num_patches:
            raise ValueError(
                f'PIRLJigsawNeck got {x.size(0)} patch features, not a '
                f'multiple of num_patches={self.num_patches}')
        x = self.patch_fc(x).view(-1, self.num_patches * self.mid_channels)
        return (self.fc(x), )
