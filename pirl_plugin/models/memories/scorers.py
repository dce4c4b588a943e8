"""Scratch-buffer gathers and autograd functions that score queries
against memory-bank rows picked by index, without keeping a ``B x N x D``
tensor for backward."""
from typing import TYPE_CHECKING, Dict

import torch
from mmengine import dist

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from .memory_bank import MemoryBank
    from .sharded_memory_bank import ShardedMemoryBank


class ScratchGather:
    """``bank[idx]`` written into scratch buffers reused from call to call.

    The result of a call is only valid until the next call. The buffers are
    grown (never shrunk) as needed and follow the bank's device; they are
    not state (never saved or broadcast).
    """

    def __init__(self) -> None:
        self.buffers: Dict[str, torch.Tensor] = {}

    def _rows(self, key: str, n: int, bank: torch.Tensor,
              dtype: torch.dtype) -> torch.Tensor:
        """An ``(n, D)`` view of the scratch buffer ``key``."""
        dim = bank.size(1)
        buf = self.buffers.get(key)
        if (buf is None or buf.numel() < n * dim or buf.device != bank.device):
            buf = torch.empty(n, dim, dtype=dtype, device=bank.device)
            self.buffers[key] = buf
        return buf.view(-1)[:n * dim].view(n, dim)

    def __call__(self, bank: torch.Tensor, idx: torch.Tensor,
                 dtype: torch.dtype) -> torch.Tensor:
        """``bank[idx]`` as ``dtype``, shape ``idx.shape + (D, )``."""
        flat = idx.reshape(-1)
        n = flat.numel()
        rows = self._rows('rows', n, bank, bank.dtype)
        torch.index_select(bank, 0, flat, out=rows)
        if dtype != bank.dtype:
            converted = self._rows(f'rows_{dtype}', n, bank, dtype)
            converted.copy_(rows)
            rows = converted
        return rows.view(*idx.shape, bank.size(1))


class GatherScores(torch.autograd.Function):
    """Scores of queries against bank rows picked by index, chunked.

    ``out[b, n, k] = <bank[idx[b, n]], q[b, k]>``, shape ``(B, N, K)``
    for queries ``q`` ``(B, K, D)`` and indices ``idx`` ``(B, N)``. The
    rows are gathered ``chunk`` queries at a time (into the bank's scratch
    buffer, :meth:`MemoryBank.gather_rows`) in forward and again in
    backward, so peak memory is ``chunk x N x D``. No gradient flows into
    the bank. Backward raises if the bank was written since forward
    (:meth:`MemoryBank.check_unchanged_since`). Rationale: docs/design.md,
    "Memory bank: scoring the negatives".
    """

    @staticmethod
    def forward(ctx, q: torch.Tensor, bank: 'MemoryBank', idx: torch.Tensor,
                chunk: int) -> torch.Tensor:
        batch, num_neg = idx.shape
        out = q.new_empty(batch, num_neg, q.size(1))
        for s in range(0, batch, chunk):
            rows = bank.gather_rows(idx[s:s + chunk], q.dtype)  # c, N, D
            torch.bmm(
                rows, q[s:s + chunk].transpose(1, 2), out=out[s:s + chunk])
        ctx.save_for_backward(idx)
        ctx.bank, ctx.chunk, ctx.q_dtype = bank, chunk, q.dtype
        ctx.bank_version = bank.version
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        idx, = ctx.saved_tensors
        ctx.bank.check_unchanged_since(ctx.bank_version)
        batch = idx.size(0)
        grad_q = grad_out.new_empty(batch, grad_out.size(2), ctx.bank.feat_dim)
        for s in range(0, batch, ctx.chunk):
            rows = ctx.bank.gather_rows(idx[s:s + ctx.chunk], ctx.q_dtype)
            torch.bmm(
                grad_out[s:s + ctx.chunk].transpose(1, 2),
                rows,
                out=grad_q[s:s + ctx.chunk])
        return grad_q, None, None, None


class DenseScores(torch.autograd.Function):
    """Scores of queries against bank rows picked by index, through the
    scores against the whole bank.

    ``out[b, n, k] = <bank[idx[b, n]], q[b, k]>``, shape ``(B, N, K)``,
    computed as ``S = q @ bank.T`` (``B x K x M``) and ``S.gather(idx)``;
    backward scatters the gradient into a ``B x K x M`` matrix and
    multiplies it by the bank. Same numbers as :class:`GatherScores` (up to
    the order of float32 sums); :meth:`MemoryBank.score` picks one
    (``score_mode``; costs in docs/design.md, "Memory bank: scoring the
    negatives"). As for :class:`GatherScores`, backward raises if the bank
    was written since forward.
    """

    @staticmethod
    def forward(ctx, q: torch.Tensor, bank: 'MemoryBank',
                idx: torch.Tensor) -> torch.Tensor:
        batch, k, dim = q.shape
        rows = bank.bank.to(q.dtype)
        scores = torch.matmul(q.reshape(batch * k, dim), rows.t())
        scores = scores.view(batch, k, -1)
        index = idx.unsqueeze(1).expand(batch, k, idx.size(1))
        out = torch.gather(scores, 2, index)  # B, K, N
        ctx.save_for_backward(idx)
        ctx.bank, ctx.q_dtype = bank, q.dtype
        ctx.bank_version = bank.version
        return out.transpose(1, 2)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        idx, = ctx.saved_tensors
        bank = ctx.bank
        bank.check_unchanged_since(ctx.bank_version)
        batch, num_neg, k = grad_out.shape
        index = idx.unsqueeze(1).expand(batch, k, num_neg)
        dense = grad_out.new_zeros(batch, k, bank.num_samples)
        dense.scatter_add_(2, index, grad_out.transpose(1, 2))
        rows = bank.bank.to(ctx.q_dtype)
        grad_q = torch.matmul(dense.view(batch * k, -1), rows)
        return grad_q.view(batch, k, -1), None, None


def gather_cat(t: torch.Tensor) -> torch.Tensor:
    """``t`` of every rank, concatenated along dim 0 (collective)."""
    return torch.cat(dist.all_gather(t.contiguous()))


class ShardedScores(torch.autograd.Function):
    """Scores of every rank's queries against negatives spread over shards.

    Forward: the queries and negative indices of all ranks are gathered; each
    rank scores the negatives it owns (zeros elsewhere) and the partial
    scores are summed across ranks; each rank keeps its own queries' rows.
    Backward mirrors it: the score gradients are gathered, each rank
    computes the query gradient from its own rows, and the partial
    gradients are summed. Per-rank memory is ``G x N x K`` scores for the
    global batch ``G`` (no ``G x N x D`` tensor is materialised). As in
    :class:`GatherScores`, backward gathers the rows again and
    refuses to run if the bank was written since forward.
    """

    @staticmethod
    def forward(ctx, q: torch.Tensor, bank: 'ShardedMemoryBank',
                neg_idx: torch.Tensor) -> torch.Tensor:
        rank, batch = dist.get_rank(), q.size(0)
        q_all = gather_cat(q)  # G, K, D
        idx_all = gather_cat(neg_idx)  # G, N
        local, owned = bank.localize(idx_all)
        scores = torch.zeros(
            idx_all.size(0),
            idx_all.size(1),
            q.size(1),
            dtype=q.dtype,
            device=q.device)
        c = bank.chunk_size
        for s in range(0, idx_all.size(0), c):
            rows = bank.gather_rows(local[s:s + c], q.dtype)  # scratch
            rows.mul_(owned[s:s + c].unsqueeze(-1).to(rows.dtype))
            torch.bmm(
                rows, q_all[s:s + c].transpose(1, 2), out=scores[s:s + c])
        dist.all_reduce(scores, op='sum')
        ctx.bank = bank
        ctx.bank_version = bank.version
        ctx.save_for_backward(local, owned)
        ctx.rank, ctx.batch = rank, batch
        return scores[rank * batch:(rank + 1) * batch].clone()

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        local, owned = ctx.saved_tensors
        bank = ctx.bank
        # Raised on every rank alike: each rank commits the same updates.
        bank.check_unchanged_since(ctx.bank_version)
        grad_all = gather_cat(grad_out)  # G, N, K
        grad_q = grad_all.new_zeros(
            grad_all.size(0), grad_all.size(2), bank.feat_dim)
        c = bank.chunk_size
        for s in range(0, grad_all.size(0), c):
            rows = bank.gather_rows(local[s:s + c], grad_all.dtype)
            rows.mul_(owned[s:s + c].unsqueeze(-1).to(rows.dtype))
            torch.bmm(
                grad_all[s:s + c].transpose(1, 2), rows, out=grad_q[s:s + c])
        dist.all_reduce(grad_q, op='sum')
        b = ctx.batch
        return grad_q[ctx.rank * b:(ctx.rank + 1) * b].clone(), None, None
