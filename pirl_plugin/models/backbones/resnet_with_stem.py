"""A ResNet that also returns its stem ("conv1") feature map."""
from typing import Tuple

import torch
from mmpretrain.models.backbones import ResNet
from mmpretrain.registry import MODELS


@MODELS.register_module()
class ResNetWithStem(ResNet):
    """MMPretrain's :class:`ResNet` whose outputs start with the stem.

    The benchmark of Goyal et al. (ICCV 2019), which the PIRL paper uses for
    its per-layer results, probes five ResNet-50 layers: ``conv1`` (the stem
    after conv, BN and ReLU, before the max-pool; 64 x 112 x 112 for a 224
    input) and the outputs of ``res2`` to ``res5`` (the four residual
    stages). MMPretrain's ResNet only returns residual stages, so this class
    prepends the stem output when ``with_stem=True``.

    The parameters and their names are those of :class:`ResNet`, so a PIRL
    checkpoint (``backbone.*`` keys) loads with
    ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.

    Args:
        with_stem (bool): prepend the stem output to the outputs. Defaults
            to True.
        **kwargs: the arguments of :class:`ResNet` (``depth``,
            ``out_indices``, ``frozen_stages``, ``norm_eval``, ...).

    Returns (of ``forward``):
        tuple[Tensor]: ``(stem, *stages)`` with ``stages`` the residual
        stages listed in ``out_indices``.
    """

    def __init__(self, with_stem: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.with_stem = with_stem

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.norm1(self.conv1(x)))
        stem = x
        x = self.maxpool(x)
        outs = [stem] if self.with_stem else []
        for i, layer_name in enumerate(self.res_layers):
            x = getattr(self, layer_name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
