"""The backbone's architecture, read from a checkpoint or a config, and
its application to the task configs of ``tools/eval_suite.py``: depth,
widths, and the channels of the heads and necks that sit on it."""
from dataclasses import dataclass
from typing import Dict, Optional

import torch
from mmengine.config import Config, ConfigDict

from pirl_plugin.utils.resnet_weights import (PREFIX, ConversionError,
                                              get_state_dict,
                                              infer_resnet_depth,
                                              load_checkpoint_file)

LAYERS = ('conv1', 'res2', 'res3', 'res4', 'res5')


@dataclass
class ResNetArch:
    """A plain ResNet's shape.

    Args:
        depth (int): 18, 34, 50, 101 or 152.
        stem_channels (int): output channels of the stem (conv1).
        base_channels (int): channels of the first stage's blocks.
    """
    depth: int = 50
    stem_channels: int = 64
    base_channels: int = 64

    def channels(self) -> Dict[str, int]:
        """Output channels of each layer, conv1 to res5."""
        expansion = 4 if self.depth >= 50 else 1
        out = {'conv1': self.stem_channels}
        for i, name in enumerate(LAYERS[1:]):
            out[name] = self.base_channels * 2**i * expansion
        return out


def backbone_weights(state_dict: Dict[str, torch.Tensor]) -> dict:
    """The ``backbone.*`` weights without the prefix, or the whole state
    dict when it has none (a backbone checkpoint)."""
    inner = {
        k[len(PREFIX):]: v
        for k, v in state_dict.items() if k.startswith(PREFIX)
    }
    return inner or dict(state_dict)


def arch_from_checkpoint(path: str) -> ResNetArch:
    """Infer the ResNet of a PIRL or backbone checkpoint from its weights.

    Args:
        path (str): the checkpoint.

    Returns:
        ResNetArch: its depth and widths.
    """
    weights = backbone_weights(
        get_state_dict(load_checkpoint_file(path), path))
    depth = infer_resnet_depth(weights, path)
    return ResNetArch(
        depth=depth,
        stem_channels=int(weights['conv1.weight'].shape[0]),
        base_channels=int(weights['layer1.0.conv1.weight'].shape[0]))


def arch_from_config(path: str) -> ResNetArch:
    """The ResNet of a config's ``model.backbone``."""
    backbone = Config.fromfile(path).model.backbone
    return ResNetArch(
        depth=backbone.depth,
        stem_channels=backbone.get('stem_channels', 64) or 64,
        base_channels=backbone.get('base_channels', 64))


def resolve_arch(checkpoint: str, config: Optional[str]) -> ResNetArch:
    """The architecture of the checkpoint; with ``config``, the config's,
    checked against the weights.

    Raises:
        ConversionError: the checkpoint is not a plain ResNet, or the
            config builds another one.
    """
    found = arch_from_checkpoint(checkpoint)
    if config is None:
        return found
    wanted = arch_from_config(config)
    if wanted != found:
        raise ConversionError(
            f'--config {config!r} builds {wanted} but {checkpoint!r} holds '
            f'{found}: pass the config the checkpoint was trained with')
    return wanted


def apply_backbone(cfg: Config, arch: ResNetArch) -> None:
    """Set depth and widths of ``model.backbone`` and the in-channels of
    the classification head and neck, in place."""
    model = cfg.model
    model.backbone.update(
        depth=arch.depth,
        stem_channels=arch.stem_channels,
        base_channels=arch.base_channels)
    chans = arch.channels()
    head = model.get('head') or {}
    if 'layer_names' in head:  # MultiLayerLinearClsHead
        head.in_channels = tuple(chans[n] for n in head.layer_names)
    elif 'in_channels' in head:
        head.in_channels = chans['res5']
    neck = model.get('neck') or {}
    if 'in_channels' in neck:
        neck.in_channels = chans['res5']


def apply_c4_detector(cfg: Config, arch: ResNetArch) -> None:
    """Set the backbone and the channels of a Faster R-CNN C4 (RPN and RoI
    extractor on res4, the res5 RoI head and box head after it).

    Raises:
        ConversionError: for a width other than 64, which MMDetection's
            res5 RoI head (``ResLayer``) cannot build.
    """
    if (arch.stem_channels, arch.base_channels) != (64, 64):
        raise ConversionError(
            f'{arch}: MMDetection\'s C4 RoI head (ResLayer) builds width 64 '
            'only; leave out the det task (--tasks) for this backbone')
    cfg.model.backbone.depth = arch.depth
    chans = arch.channels()
    cfg.model.rpn_head.update(
        in_channels=chans['res4'], feat_channels=chans['res4'])
    roi = cfg.model.roi_head
    roi.shared_head.depth = arch.depth
    roi.bbox_roi_extractor.out_channels = chans['res4']
    roi.bbox_head.in_channels = chans['res5']


def set_pretrained(cfg: Config, backbone: str) -> None:
    """Initialise ``model.backbone`` from a backbone checkpoint (no
    prefix), as ``tools/det_train.py`` does for detectors."""
    cfg.model.backbone.init_cfg = ConfigDict(
        type='Pretrained', checkpoint=backbone)


def set_data_root(cfg: Config, root: str) -> int:
    """Point every dataset of the train/val/test dataloaders (also those
    inside a ``ConcatDataset``) at ``root``.

    Returns:
        int: how many dataset configs were changed.
    """

    def visit(dataset) -> int:
        if not isinstance(dataset, dict):
            return 0
        count = sum(visit(d) for d in dataset.get('datasets', []))
        count += visit(dataset.get('dataset'))
        if 'data_root' in dataset:
            dataset['data_root'] = root
            count += 1
        return count

    return sum(
        visit(cfg.get(f'{split}_dataloader', {}).get('dataset'))
        for split in ('train', 'val', 'test'))
