"""Linear classifiers on several backbone layers, trained in one run."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from pirl_plugin.evaluation.features import DEFAULT_POOL_SIZES, check_layers
from ...utils.config_errors import ConfigValueError


@MODELS.register_module()
class MultiLayerLinearClsHead(BaseModule):
    """One linear classifier per backbone layer (the per-layer probe).

    Each layer's feature map is average-pooled (adaptive pooling to a
    ``g x g`` grid, or global pooling), optionally batch-normalised per
    channel, flattened and fed to its own ``nn.Linear``. The classifiers are
    independent: the loss is the sum of one cross-entropy per layer (logged
    as ``loss_<layer>``), so each one is trained as if alone, over one
    shared frozen backbone and one pass over the data.

    With the default grids a ResNet-50 gives about 9k dimensions per layer
    (conv1 64x12x12, res2 256x6x6, res3 512x4x4, res4 1024x3x3, res5
    2048x2x2), as in the benchmark of Goyal et al. (ICCV 2019) that the PIRL
    paper uses for its per-layer curve. The batch norm (``with_bn``, as in
    that benchmark) only rescales each channel: at test time it is a fixed
    affine map, so the classifier stays linear in the pooled feature.

    Args:
        num_classes (int): number of classes.
        in_channels (sequence[int]): channels of each layer, in the order of
            the backbone outputs (e.g. ``(64, 256, 512, 1024, 2048)`` for a
            ResNet-50 :class:`ResNetWithStem`).
        layer_names (sequence[str]): names of the layers, same order and
            length as ``in_channels``. Defaults to
            ``('conv1', 'res2', 'res3', 'res4', 'res5')``.
        pool_sizes (sequence[int | str], optional): pooling per layer: an
            int ``g`` for a ``g x g`` adaptive average pool, ``'avg'`` for
            global average pooling. Defaults to :data:`DEFAULT_POOL_SIZES`.
        with_bn (bool): batch-normalise the pooled channels before the
            linear layer. Defaults to True.
        eval_layer (str, optional): the layer whose prediction fills
            ``pred_score`` (used by MMPretrain's ``Accuracy``). Defaults to
            the last layer.
        loss (dict): the loss of each classifier. Defaults to
            ``CrossEntropyLoss``.
        init_cfg (dict, optional): defaults to a normal init of the linear
            layers with std 0.01.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: Sequence[int],
        layer_names: Sequence[str] = ('conv1', 'res2', 'res3', 'res4', 'res5'),
        pool_sizes: Optional[Sequence] = None,
        with_bn: bool = True,
        eval_layer: Optional[str] = None,
        loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
        init_cfg: Optional[dict] = dict(
            type='Normal', layer='Linear', std=0.01)
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes <= 0:
            raise ConfigValueError(
                f'num_classes={num_classes} must be a positive integer',
                'num_classes')
        self.layer_names = check_layers(layer_names)
        if len(set(self.layer_names)) != len(self.layer_names):
            raise ConfigValueError(
                f'layer_names has duplicates: {layer_names}', 'layer_names')
        if len(in_channels) != len(self.layer_names):
            raise ConfigValueError(
                f'in_channels {list(in_channels)} and layer_names '
                f'{self.layer_names} must have the same length', 'in_channels')
        if pool_sizes is None:
            pool_sizes = [DEFAULT_POOL_SIZES[n] for n in self.layer_names]
        if len(pool_sizes) != len(self.layer_names):
            raise ConfigValueError(
                f'pool_sizes {list(pool_sizes)} and layer_names '
                f'{self.layer_names} must have the same length', 'pool_sizes')
        self.pool_sizes = list(pool_sizes)
        self.eval_layer = eval_layer or self.layer_names[-1]
        if self.eval_layer not in self.layer_names:
            raise ConfigValueError(
                f'eval_layer {self.eval_layer!r} is not one of '
                f'{self.layer_names}', 'eval_layer')
        self.num_classes = num_classes
        self.in_channels = list(in_channels)
        self.bns = nn.ModuleList(
            nn.BatchNorm2d(c) if with_bn else nn.Identity()
            for c in self.in_channels)
        self.fcs = nn.ModuleList()
        for c, p in zip(self.in_channels, self.pool_sizes):
            dim = c if p == 'avg' else c * int(p) * int(p)
            self.fcs.append(nn.Linear(dim, num_classes))
        self.loss_module = MODELS.build(loss)

    @property
    def feat_dims(self) -> Dict[str, int]:
        """Input dimension of each layer's classifier."""
        return {n: fc.in_features for n, fc in zip(self.layer_names, self.fcs)}

    def forward(self, feats: Tuple[torch.Tensor]) -> List[torch.Tensor]:
        """Class scores of every layer.

        Args:
            feats (tuple[Tensor]): backbone outputs, one per layer (the last
                ``len(layer_names)`` outputs are used).

        Returns:
            list[Tensor]: ``(N, num_classes)`` scores per layer.
        """
        if len(feats) < len(self.layer_names):
            raise ValueError(
                f'MultiLayerLinearClsHead expects {len(self.layer_names)} '
                f'feature maps ({self.layer_names}) but the backbone returned '
                f'{len(feats)}: use ResNetWithStem with with_stem=True and '
                'out_indices=(0, 1, 2, 3)')
        feats = feats[-len(self.layer_names):]
        scores = []
        for feat, pool, bn, fc in zip(feats, self.pool_sizes, self.bns,
                                      self.fcs):
            grid = 1 if pool == 'avg' else int(pool)
            x = bn(F.adaptive_avg_pool2d(feat, grid)).flatten(1)
            scores.append(fc(x))
        return scores

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """One cross-entropy per layer, named ``loss_<layer>``."""
        scores = self(feats)
        target = torch.cat([s.gt_label for s in data_samples])
        return {
            f'loss_{name}': self.loss_module(
                score, target, avg_factor=score.size(0), **kwargs)
            for name, score in zip(self.layer_names, scores)
        }

    def predict(
        self,
        feats: Tuple[torch.Tensor],
        data_samples: Optional[List[Optional[DataSample]]] = None
    ) -> List[DataSample]:
        """Predictions of every layer.

        Each returned sample carries ``layer_scores`` (dict layer -> softmax
        scores, read by :class:`MultiLayerAccuracy`) and ``pred_score`` /
        ``pred_label`` of ``eval_layer`` (read by ``Accuracy``).
        """
        probs = [F.softmax(s, dim=1).detach() for s in self(feats)]
        eval_probs = probs[self.layer_names.index(self.eval_layer)]
        if data_samples is None:
            data_samples = [None] * eval_probs.size(0)
        out = []
        for i, sample in enumerate(data_samples):
            sample = sample if sample is not None else DataSample()
            sample.set_pred_score(eval_probs[i]).set_pred_label(
                eval_probs[i].argmax(keepdim=True))
            sample.set_field(
                {n: p[i]
                 for n, p in zip(self.layer_names, probs)},
                'layer_scores',
                field_type='data')
            out.append(sample)
        return out
