"""PIRL's loss head for several pretext transformations at once."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine import dist
from mmpretrain.registry import MODELS

from ..losses import infonce_loss, nce_loss
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
            ``shared_negatives``, ``z_momentum``, ``init_cfg``).
    """

    def __init__(self,
                 transform_names: Sequence[str] = ('jigsaw', 'rotation'),
                 transform_weights: Optional[Sequence[float]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        names = tuple(transform_names)
        if not names or len(set(names)) != len(names) or 'image' in names:
            raise ValueError(
                'MultiNCEHead transform_names must be distinct, non-empty '
                f"and not 'image', got {names}")
        if transform_weights is None:
            transform_weights = [1.0] * len(names)
        weights = torch.tensor([float(w) for w in transform_weights],
                               dtype=torch.float64)
        if len(weights) != len(names) or (weights < 0).any() or \
                weights.sum() <= 0:
            raise ValueError(
                f'MultiNCEHead transform_weights must be {len(names)} '
                f'values >= 0 with a positive sum, got '
                f'{list(transform_weights)}')
        self.transform_names = names
        self.transform_weights = (weights / weights.sum()).tolist()
        # Running Z of each transformation's term, then the image term.
        self.register_buffer(
            'z', torch.zeros(len(names) + 1, dtype=torch.float64))

    @torch.no_grad()
    def _update_z(self, neg_logits: torch.Tensor,
                  neg_mask: Optional[torch.Tensor],
                  num_data: int) -> torch.Tensor:
        """Update the running Z from ``(B, N, T + 1)`` negative logits."""
        k = neg_logits.size(-1)
        e = neg_logits.double().exp()
        if neg_mask is not None:
            e = e * neg_mask.unsqueeze(-1)
            count = neg_mask.sum().double().expand(k).clone()
        else:
            count = torch.full((k, ), float(e.size(0) * e.size(1)),
                               dtype=torch.float64, device=e.device)
        stats = torch.cat([e.sum(dim=(0, 1)), count])
        if dist.get_world_size() > 1:
            dist.all_reduce(stats, op='sum')
        z_batch = num_data * stats[:k] / stats[k:].clamp(min=1)
        first = self.z <= 0
        self.z.copy_(
            torch.where(
                first, z_batch,
                self.z_momentum * self.z + (1 - self.z_momentum) * z_batch))
        return self.z.clone()

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
        for name, feat in zip(self.transform_names, transform_feats):
            if feat.shape != image_feat.shape:
                raise ValueError(
                    f'MultiNCEHead: g_{name} has shape {tuple(feat.shape)} '
                    f'but f(v_I) has shape {tuple(image_feat.shape)}')
        if image_feat.size(1) != memory_bank.feat_dim:
            raise ValueError(
                f'MultiNCEHead: the necks output {image_feat.size(1)}-d '
                f'features but the memory bank stores '
                f'{memory_bank.feat_dim}-d vectors; set memory_bank.feat_dim '
                "to the necks' out_channels")
        num_terms = len(self.transform_names) + 1
        with torch.autocast(device_type=image_feat.device.type,
                            enabled=False):
            q = torch.stack(list(transform_feats) + [image_feat], dim=1)
            q = F.normalize(q.float(), dim=2)  # B, T + 1, D
            pos = memory_bank.get(idx)
            pos_logits = (q * pos.unsqueeze(1)).sum(-1) / self.temperature
            neg_idx = memory_bank.sample_negatives(idx, self.num_negatives,
                                                   self.shared_negatives)
            neg_logits = memory_bank.score(q, neg_idx) / self.temperature
            neg_mask = None
            if neg_idx.dim() == 1:
                neg_mask = neg_idx.view(1, -1) != idx.view(-1, 1)
            losses = {}
            names = list(self.transform_names) + ['image']
            if self.loss_type == 'nce':
                z = self._update_z(neg_logits.detach(), neg_mask,
                                   memory_bank.num_samples)
                log_z = z.log().float()
                terms = [
                    nce_loss(pos_logits[:, k], neg_logits[..., k], log_z[k],
                             memory_bank.num_samples, neg_mask).mean()
                    for k in range(num_terms)
                ]
                for k, name in enumerate(names):
                    losses[f'z_{name}'] = z[k].float()
            else:
                terms = [
                    infonce_loss(pos_logits[:, k], neg_logits[..., k],
                                 neg_mask).mean() for k in range(num_terms)
                ]
        for k, name in enumerate(self.transform_names):
            losses[f'loss_{name}'] = (self.loss_lambda *
                                      self.transform_weights[k] * terms[k])
        losses['loss_image'] = (1 - self.loss_lambda) * terms[-1]
        return losses
