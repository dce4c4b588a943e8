"""PIRL's head f as a two-layer MLP (the authors' VISSL "MLP head")."""
from typing import Optional, Tuple, Union

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import nn

from .pirl_jigsaw_neck import pool_features


@MODELS.register_module()
class PIRLMLPNeck(BaseModule):
    """Head f(v_I) as an MLP: average pooling, ``Linear(in, hid)``, an
    optional ReLU, ``Linear(hid, out)``.

    The layers live in ``self.mlp``, an ``nn.Sequential`` with the layout of
    VISSL's ``mlp`` head (``vissl/models/heads/mlp.py``): the Linear layers
    sit at indices 0 and 2 with the ReLU, at 0 and 1 without it, so the
    weights of VISSL's ``clf.<i>`` map to ``mlp.<i>`` one to one.

    Args:
        in_channels (int): channels of the backbone feature.
        hid_channels (int): hidden size.
        out_channels (int): embedding size. Defaults to 128.
        with_relu (bool): a ReLU between the two layers. Defaults to True.
        init_cfg (dict, optional): initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 hid_channels: int,
                 out_channels: int = 128,
                 with_relu: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        layers = [nn.Linear(in_channels, hid_channels)]
        if with_relu:
            layers.append(nn.ReLU(inplace=True))
        layers.append(nn.Linear(hid_channels, out_channels))
        self.mlp = nn.Sequential(*layers)

    def forward(
        self, inputs: Union[Tuple[torch.Tensor],
                            torch.Tensor]) -> Tuple[torch.Tensor]:
        """Embed the image features.

        Args:
            inputs (tuple[Tensor] | Tensor): ``(B, C, H, W)`` or ``(B, C)``
                features; with a tuple the last stage is used.

        Returns:
            tuple[Tensor]: ``(B, out_channels)``.
        """
        x = pool_features(inputs, self.in_channels, 'PIRLMLPNeck')
        return (self.mlp(x), )
