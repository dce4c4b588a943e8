"""The memory bank's statistics: collapse and cross-rank consistency."""
import torch


class BankStatisticsMixin:
    """Statistics of a memory bank's rows, for :class:`MemoryBank`.

    The host class provides ``bank`` (the ``(M, D)`` buffer, or this rank's
    shard), ``num_samples``, ``feat_dim``, ``num_updates`` and
    ``check_ready()``.
    """

    def _row_sum(self) -> torch.Tensor:
        """float64 sum of the bank's rows (of all of them)."""
        return self.bank.double().sum(0)

    @torch.no_grad()
    def pairwise_similarity(self) -> float:
        """Mean cosine similarity between two DIFFERENT entries of the bank.

        The collapse statistic: about 0 for random unit vectors, 1 when
        every entry points the same way. (``bank_feat_sim``, logged at each
        update, compares a new feature with its own entry instead: high
        values there mean a stable representation, not a collapsed one.)
        For unit rows ``sum_ij <m_i, m_j> = ||sum_i m_i||^2``, so the mean
        over the ``M (M - 1)`` pairs ``i != j`` is
        ``(||sum_i m_i||^2 - M) / (M (M - 1))``: one pass over the bank,
        no ``M x M`` matrix. Collective for a sharded bank (call on every
        rank).

        Returns:
            float: the mean pairwise cosine similarity.
        """
        self.check_ready()
        m = self.num_samples
        total = self._row_sum()
        return float((total.dot(total) - m) / (m * (m - 1)))

    def consistency_signature(self) -> float:
        """What must agree across ranks (the replicated bank itself)."""
        return self.checksum() + float(self.num_updates)

    @torch.no_grad()
    def checksum(self) -> float:
        """A float64 checksum of the bank, to compare banks across ranks."""
        weights = torch.arange(
            1, self.feat_dim + 1, dtype=torch.float64, device=self.bank.device)
        return float((self.bank.double() * weights).sum())
