"""The Jigsaw pretext task (Noroozi & Favaro, ECCV 2016), a covariant
baseline of PIRL (its ResNet-50 version follows Goyal et al., ICCV 2019)."""
from typing import Dict, List

import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample


def check_class_targets(data_samples: List[DataSample], num_classes: int,
                        what: str) -> None:
    """Refuse targets outside ``[0, num_classes)`` with a readable error
    (cross-entropy would fail with an index error, or silently on GPU)."""
    labels = torch.cat([s.gt_label.reshape(-1) for s in data_samples])
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f'{what}: targets must be in [0, {num_classes}) (the head\'s '
            f'num_classes), got values in [{int(labels.min())}, '
            f'{int(labels.max())}]; set head.num_classes to the number of '
            'classes the transform produces')


@MODELS.register_module()
class JigsawPretext(BaseSelfSupervisor):
    """Jigsaw pretext: predict which of |T| permutations shuffled the patches.

    The inputs are the ``K`` patches of each image in shuffled order (from
    :class:`JigsawPretextTransform`, whose ``gt_label`` is the index of the
    permutation). The backbone runs once, batched, on all ``B * K`` patches
    (shared weights), ``neck`` (:class:`JigsawPretextNeck`) concatenates the
    ``K`` pooled patch features in their shuffled order and ``head`` (e.g.
    mmpretrain's ``LinearClsHead`` with ``num_classes = |T|``) classifies the
    permutation with a cross-entropy loss.

    Args:
        backbone (dict): backbone config.
        neck (dict): :class:`JigsawPretextNeck` config.
        head (dict): classification head config with ``num_classes = |T|``.
        pretrained (str, optional): checkpoint to initialise from.
        data_preprocessor (dict, optional): defaults to
            ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): initialisation config.
    """

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Cross-entropy of the permutation index.

        Args:
            inputs (list[Tensor]): ``K`` tensors ``(B, C, h, w)``, slot ``k``
                of every image.
            data_samples (list[DataSample]): ``gt_label`` = permutation index.

        Returns:
            dict[str, Tensor]: ``loss`` (and the head's accuracies).
        """
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(
                'JigsawPretext expects a list of K >= 2 patch tensors from '
                'JigsawPretextTransform packed by PackInputs')
        num_classes = getattr(self.head, 'num_classes', None)
        if num_classes is not None:
            check_class_targets(data_samples, num_classes, 'JigsawPretext')
        patches = torch.stack(list(inputs), dim=1).flatten(0, 1)
        feats = self.neck(self.backbone(patches))
        return self.head.loss(feats, data_samples)
