"""PIRL's loss head for several pretext transformations at once."""
from typing import Dict, Optional, Sequence

import torch
from mmpretrain.registry import MODELS

from ...utils.config_errors import ConfigValueError
from .nce_head import NCEHead


@MODELS.register_module()
class MultiNCEHead(NCEHead):
    """The PIRL objective with one invariance term per transformation.

    ``L = lam * sum_t w_t L(m_I, g_t(v_{I^t})) + (1 - lam) * L(m_I, f(v_I))``
    over the transformations ``t`` in ``transform_names`` (e.g. jigsaw and
    rotation, the paper's Table 5), with relative weights ``w_t`` summing to
    one (equal by default). All terms share the negatives and each keeps its
    own running partition-function estimate (``z``, one entry per
    transformation, then the image). With a single transformation it is
    :class:`NCEHead` (the same loss, term for term).

    Args:
        transform_names (sequence[str]): one name per transformation, in the
            order of the features given to :meth:`loss`; the loss terms are
            logged as ``loss_<name>``. Defaults to ('jigsaw', 'rotation').
        transform_weights (sequence[float], optional): relative weights
            ``w_t`` (>= 0, not all 0), normalised to sum to one. Defaults to
            equal weights.
        **kwargs: the arguments of :class:`NCEHead` (``loss_type``,
            ``temperature``, ``num_negatives``, ``loss_lambda``,
            ``shared_negatives``, ``z_momentum``, ``eps``, ``frozen_z``,
            ``negative_sampling``, ``init_cfg``).
    """

    def __init__(self,
                 transform_names: Sequence[str] = ('jigsaw', 'rotation'),
                 transform_weights: Optional[Sequence[float]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        names = tuple(transform_names)
        if not names or len(set(names)) != len(names) or 'image' in names:
            raise ConfigValueError(
                'MultiNCEHead transform_names must be distinct, non-empty '
                f"and not 'image', got {names}", 'transform_names')
        if transform_weights is None:
            transform_weights = [1.0] * len(names)
        weights = torch.tensor([float(w) for w in transform_weights],
                               dtype=torch.float64)
        if len(weights) != len(names) or (weights < 0).any() or \
                weights.sum() <= 0:
            raise ConfigValueError(
                f'MultiNCEHead transform_weights must be {len(names)} '
                f'values >= 0 with a positive sum, got '
                f'{list(transform_weights)}', 'transform_weights')
        self.transform_names = names
        self.transform_weights = (weights / weights.sum()).tolist()
        # Running Z of each transformation's term, then the image term.
        self.register_buffer('z',
                             torch.zeros(len(names) + 1, dtype=torch.float64))

    def loss(self, transform_feats: Sequence[torch.Tensor],
             image_feat: torch.Tensor, idx: torch.Tensor,
             memory_bank) -> Dict[str, torch.Tensor]:
        """Compute the multi-transformation PIRL loss.

        Args:
            transform_feats (sequence[Tensor]): ``g_t(v_{I^t})``, ``(B, D)``
                each, in the order of ``transform_names``. A single tensor
                is accepted when there is one transformation.
            image_feat (Tensor): f(v_I), ``(B, D)``.
            idx (Tensor): dataset indices of the batch, ``(B,)``.
            memory_bank (MemoryBank): the bank holding m_I.

        Returns:
            dict[str, Tensor]: ``loss_<name>`` (``lam * w_t`` times the term
            of transformation t) and ``loss_image``; for NCE also
            ``z_<name>`` and ``z_image``.
        """
        if isinstance(transform_feats, torch.Tensor):
            transform_feats = [transform_feats]
        if len(transform_feats) != len(self.transform_names):
            raise ValueError(
                f'MultiNCEHead: got {len(transform_feats)} transformed-view '
                f'features for transform_names {self.transform_names}')
        self._check_features(
            {
                f'g_{name}': feat
                for name, feat in zip(self.transform_names, transform_feats)
            }, image_feat, memory_bank)
        terms, z = self._terms(
            list(transform_feats) + [image_feat], idx, memory_bank)
        losses = {}
        if z is not None:
            for k, name in enumerate(list(self.transform_names) + ['image']):
                losses[f'z_{name}'] = z[k].float()
        for k, name in enumerate(self.transform_names):
            losses[f'loss_{name}'] = (
                self.loss_lambda * self.transform_weights[k] * terms[k])
        losses['loss_image'] = (1 - self.loss_lambda) * terms[-1]
        return losses
