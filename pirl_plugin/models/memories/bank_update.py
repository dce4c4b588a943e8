"""A memory bank's two-phase update: stage the batch, commit it later."""
from typing import Dict

import torch
import torch.nn.functional as F
from mmengine import dist


class BankUpdateMixin:
    """The update of a :class:`MemoryBank`: :meth:`stage_update` records a
    batch's indices and features gathered from all ranks, :meth:`commit`
    writes them (``m <- normalize(momentum * m + (1 - momentum) * f)``).

    The host class provides ``bank``, ``dtype``, ``momentum``,
    ``num_updates``, ``last_stats``, ``_pending``, ``check_ready()`` and
    ``_mark_written()``.
    """

    @torch.no_grad()
    def stage_update(self, idx: torch.Tensor, feats: torch.Tensor) -> None:
        """Record the batch's features for the update, gathered from all ranks.

        Args:
            idx (Tensor): dataset indices of the local batch, ``(B,)``.
            feats (Tensor): the image features f(v_I), ``(B, D)``; they are
                L2-normalised here.

        Raises:
            RuntimeError: if the previously staged update was not committed
                (no :class:`BankUpdateHook` in the config).
        """
        self.check_ready()
        # Refused, never committed here: docs/design.md, "Memory bank: the
        # two-phase update".
        if self._pending is not None:
            raise RuntimeError(
                'MemoryBank.stage_update: the bank update staged by the '
                'previous training step was never committed, so nothing '
                'commits the update after the optimiser step. PIRL trains '
                'only with BankUpdateHook, which commits it in '
                "after_train_iter: add `custom_hooks = [dict(type='"
                "BankUpdateHook')]` to the config (when driving the model by "
                'hand, call `memory_bank.commit()` after each backward and '
                'optimiser step).')
        feats = F.normalize(feats.detach().float(), dim=1)
        idx = idx.to(self.bank.device)
        if dist.get_world_size() > 1:
            idx = torch.cat(dist.all_gather(idx))
            feats = torch.cat(dist.all_gather(feats))
        self._pending = (idx, feats.to(self.bank.device))

    @torch.no_grad()
    def commit(self) -> Dict[str, float]:
        """Apply the staged update ``m <- normalize(mu m + (1 - mu) f)``.

        Returns:
            dict: statistics of the update (empty if nothing was staged):
            ``bank_feat_sim``, the mean cosine similarity of the new features
            to their previous entries (how stable the representation is), and
            ``bank_update_sim``, of the new entries to the old ones.
        """
        if self._pending is None:
            return {}
        idx, feats = self._pending
        self._pending = None
        old = self.bank[idx].float()
        new = F.normalize(
            self.momentum * old + (1 - self.momentum) * feats, dim=1)
        self.bank.index_copy_(0, idx, new.to(self.dtype))
        self.num_updates += 1
        self._mark_written()
        self.last_stats = dict(
            bank_feat_sim=(old * feats).sum(1).mean().item(),
            bank_update_sim=(old * new).sum(1).mean().item())
        return self.last_stats

    @property
    def has_pending_update(self) -> bool:
        """Whether an update was staged and not yet committed."""
        return self._pending is not None
