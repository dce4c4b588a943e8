"""The Rotation pretext task (Gidaris et al., ICLR 2018), a covariant
baseline of PIRL."""
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from ...datasets.transforms.rotation import check_angles
from ...utils.config_errors import ConfigValueError


def rotate_batch(x: torch.Tensor, angle: int) -> torch.Tensor:
    """Rotate ``(N, C, H, W)`` images counter-clockwise by ``angle``
    degrees (a multiple of 90), like :func:`rotate_image` on one image."""
    return torch.rot90(x, k=angle // 90, dims=(2, 3))


@MODELS.register_module()
class RotationPretext(BaseSelfSupervisor):
    """Rotation pretext: predict by how much an image was rotated.

    Every image of the batch is rotated by each of ``angles`` (all four
    rotations of each image in the same batch, as Gidaris et al. found
    best), the backbone runs once on the ``B * len(angles)`` rotated images
    and ``head`` (e.g. ``GlobalAveragePooling`` neck + ``LinearClsHead``
    with ``num_classes = len(angles)``) classifies the rotation. The data
    pipeline is a plain augmentation (RandomResizedCrop, flip, colour
    jitter) of a square crop; the rotation happens here, on the batch.

    Args:
        backbone (dict): backbone config.
        neck (dict): neck config (``GlobalAveragePooling``).
        head (dict): classification head with ``num_classes = len(angles)``.
        angles (sequence[int]): the rotations, distinct values among 0, 90,
            180, 270. Defaults to all four.
        pretrained (str, optional): checkpoint to initialise from.
        data_preprocessor (dict, optional): defaults to
            ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 angles: Sequence[int] = (0, 90, 180, 270),
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.angles = check_angles(angles, 'RotationPretext angles')
        if len(self.angles) < 2:
            raise ConfigValueError(
                'RotationPretext needs at least 2 angles to '
                f'classify, got {self.angles}', 'angles')
        num_classes = getattr(self.head, 'num_classes', len(self.angles))
        if num_classes != len(self.angles):
            raise ConfigValueError(
                f'RotationPretext: head.num_classes ({num_classes}) must '
                f'equal the number of angles ({len(self.angles)})', 'angles')

    def loss(self, inputs: Union[torch.Tensor, List[torch.Tensor]],
             data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Cross-entropy of the rotation class.

        Args:
            inputs (Tensor | list[Tensor]): square images ``(B, C, S, S)``
                (a list's first view is used).
            data_samples (list[DataSample]): only their number is used.

        Returns:
            dict[str, Tensor]: ``loss`` (and the head's accuracies).
        """
        img = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        if img.size(-1) != img.size(-2):
            raise ValueError(
                'RotationPretext needs square images so that all rotations '
                f'have one shape, got {tuple(img.shape[-2:])}; crop to a '
                'square (RandomResizedCrop with an int scale)')
        b = img.size(0)
        rotated = torch.cat([rotate_batch(img, a) for a in self.angles])
        labels = torch.arange(len(self.angles), device=img.device)
        labels = labels.repeat_interleave(b)
        targets = [DataSample().set_gt_label(k) for k in labels.split(1)]
        feats = self.neck(self.backbone(rotated))
        return self.head.loss(feats, targets)
