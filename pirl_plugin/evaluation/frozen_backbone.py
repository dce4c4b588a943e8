"""The frozen ResNet and the single-view data preprocessor that
:func:`~pirl_plugin.evaluation.features.extract_dataloader_features` runs,
built from a config (and a checkpoint) or from a model."""
import copy
import logging
from typing import Optional

import torch
from mmpretrain.registry import MODELS
from torch import nn

from pirl_plugin.utils.checkpoints import load_weights
from pirl_plugin.utils.private_access import (preprocessor_converts_channels,
                                              preprocessor_normalizes)


def build_feature_backbone(backbone_cfg: dict) -> nn.Module:
    """Build a :class:`ResNetWithStem` from a config's ResNet backbone.

    The output indices, frozen stages and initialisation of ``backbone_cfg``
    are replaced: every layer is returned and weights come from
    :func:`backbone_from_config`.

    Args:
        backbone_cfg (dict): e.g. ``cfg.model.backbone`` of a PIRL or linear
            probe config (type ``ResNet`` or ``ResNetWithStem``).

    Returns:
        nn.Module: the backbone, in eval mode.
    """
    cfg = copy.deepcopy(dict(backbone_cfg))
    btype = str(cfg.get('type', '')).split('.')[-1]
    if btype not in ('ResNet', 'ResNetWithStem'):
        raise TypeError(
            f'feature extraction supports ResNet backbones, but the config '
            f'has model.backbone.type={cfg.get("type")!r}; use a PIRL or '
            'linear-probe config with a ResNet backbone')
    cfg.update(
        type='ResNetWithStem',
        with_stem=True,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        init_cfg=None)
    cfg.pop('pretrained', None)
    backbone = MODELS.build(cfg)
    backbone.eval()  # ResNet.train() returns None: do not chain it
    return backbone


def preprocessor_from_model(model: nn.Module,
                            fallback: Optional[dict] = None) -> nn.Module:
    """A single-view ``ClsDataPreprocessor`` with the normalisation of
    ``model.data_preprocessor`` (e.g. PIRL's ``SelfSupDataPreprocessor``,
    which expects lists of views).

    Args:
        model (nn.Module): a model with a ``data_preprocessor``.
        fallback (dict, optional): preprocessor config used when the model
            has no normalisation; defaults to ImageNet mean/std, to RGB.

    Returns:
        nn.Module: the preprocessor.
    """
    pre = getattr(model, 'data_preprocessor', None)
    mean = getattr(pre, 'mean', None)
    std = getattr(pre, 'std', None)
    if (isinstance(mean, torch.Tensor) and isinstance(std, torch.Tensor)
            and preprocessor_normalizes(pre)):
        cfg = dict(
            type='mmpretrain.ClsDataPreprocessor',
            mean=mean.flatten().tolist(),
            std=std.flatten().tolist(),
            to_rgb=preprocessor_converts_channels(pre))
    else:
        cfg = fallback or dict(
            type='mmpretrain.ClsDataPreprocessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            to_rgb=True)
    return MODELS.build(cfg)


def preprocessor_from_config(model_cfg: dict) -> nn.Module:
    """A single-view ``ClsDataPreprocessor`` with the normalisation given in
    ``model_cfg['data_preprocessor']`` (PIRL's ``SelfSupDataPreprocessor``
    or a classifier's ``ClsDataPreprocessor``); ImageNet mean/std and BGR to
    RGB when the config gives none.

    Args:
        model_cfg (dict): ``cfg.model``.

    Returns:
        nn.Module: the preprocessor.
    """
    pre = dict(model_cfg.get('data_preprocessor') or {})
    return MODELS.build(
        dict(
            type='mmpretrain.ClsDataPreprocessor',
            mean=list(pre.get('mean', (123.675, 116.28, 103.53))),
            std=list(pre.get('std', (58.395, 57.12, 57.375))),
            to_rgb=bool(pre.get('to_rgb', pre.get('bgr_to_rgb', True)))))


def backbone_from_config(model_cfg: dict,
                         checkpoint: Optional[str],
                         device: str = 'cpu',
                         seed: int = 0) -> nn.Module:
    """:func:`build_feature_backbone` with the weights of a checkpoint (the
    ``backbone.*`` keys, by :func:`pirl_plugin.utils.checkpoints.load_weights`)
    or, without one, of the config's model at its seeded random
    initialisation (``torch.manual_seed(seed)``, ``init_weights()``).

    Args:
        model_cfg (dict): ``cfg.model`` of a PIRL or linear-probe config.
        checkpoint (str, optional): a PIRL checkpoint (``backbone.*`` keys)
            or a bare backbone state dict; None for the random init.
        device (str): where to put the backbone. Defaults to 'cpu'.
        seed (int): seed of the random initialisation. Defaults to 0.

    Returns:
        nn.Module: the frozen backbone returning all five layers, eval mode.
    """
    if 'backbone' not in model_cfg:
        raise KeyError('the config has no model.backbone')
    backbone = build_feature_backbone(model_cfg['backbone'])
    if checkpoint:
        load_weights(backbone, checkpoint, prefix='backbone.')
    else:
        from mmengine.logging import MMLogger
        torch.manual_seed(seed)
        model = MODELS.build(copy.deepcopy(dict(model_cfg)))
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)  # init_weights logs every parameter
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
        backbone.load_state_dict(model.backbone.state_dict(), strict=True)
    for param in backbone.parameters():
        param.requires_grad = False
    backbone.to(device)
    backbone.eval()
    return backbone
