"""NCE's partition function Z: the running Monte-Carlo estimate and
VISSL's frozen one (see :class:`~pirl_plugin.models.heads.NCEHead`)."""
from typing import Optional

import torch
from mmengine import dist


class PartitionFunctionMixin:
    """The estimates of Z of an :class:`NCEHead`.

    The host class registers ``z``, a float64 buffer with one entry per loss
    term (0: not estimated yet), and sets ``z_momentum``.
    """

    @torch.no_grad()
    def _frozen_z(self, pos_logits: torch.Tensor, neg_logits: torch.Tensor,
                  num_data: int) -> torch.Tensor:
        """VISSL's Z: set once from the first term's ``(B,)`` positive and
        ``(B, N)`` negative logits, then frozen (see ``frozen_z``)."""
        if not bool((self.z > 0).all()):
            e = torch.cat([pos_logits.unsqueeze(1), neg_logits], 1)
            mean = e.double().exp().mean()
            world = dist.get_world_size()
            if world > 1:
                dist.all_reduce(mean, op='sum')
                mean = mean / world
            z_first = num_data * mean
            if not torch.isfinite(z_first):
                return z_first.expand(self.z.numel()).clone()
            self.z.fill_(float(z_first))
        return self.z.clone()

    @torch.no_grad()
    def update_z(self, neg_logits: torch.Tensor,
                 neg_mask: Optional[torch.Tensor],
                 num_data: int) -> torch.Tensor:
        """Update the running Z of each term (one entry of ``self.z`` each)
        from the batch's negative logits, averaged across ranks.

        Args:
            neg_logits (Tensor): ``(B, N, K)`` logits of ``K`` terms.
            neg_mask (Tensor, optional): ``(B, N)`` negatives to count
                (shared draws); None counts all.
            num_data (int): ``M``, the number of bank entries.

        Returns:
            Tensor: ``(K,)`` float64, the Z this batch's loss uses: the new
            running estimate, or the batch's own when it is not finite (the
            running one is then left unchanged).
        """
        k = neg_logits.size(-1)
        e = neg_logits.double().exp()
        if neg_mask is not None:
            e = e * neg_mask.unsqueeze(-1)
            count = neg_mask.sum().double().expand(k).clone()
        else:
            count = torch.full((k, ),
                               float(e.size(0) * e.size(1)),
                               dtype=torch.float64,
                               device=e.device)
        stats = torch.cat([e.sum(dim=(0, 1)), count])
        if dist.get_world_size() > 1:
            dist.all_reduce(stats, op='sum')
        z_batch = num_data * stats[:k] / stats[k:].clamp(min=1)
        if not torch.isfinite(z_batch).all():
            # NaN/inf similarities: the loss is non-finite too and PIRL stops
            # the run; keep the checkpointed running estimate clean.
            return z_batch
        first = self.z <= 0
        self.z.copy_(
            torch.where(
                first, z_batch,
                self.z_momentum * self.z + (1 - self.z_momentum) * z_batch))
        return self.z.clone()
