"""Autograd functions that score queries against memory-bank rows picked
by index, without keeping a ``B x N x D`` tensor for backward."""
import torch
from mmengine import dist

class GatherScores(torch.autograd.Function):
    """Scores of queries against bank rows picked by index, chunked.

    ``out[b, n, k] = <bank[idx[b, n]], q[b, k]>``. PyTorch's
    ``bank[idx] @ q`` materialises a ``B x N x D`` tensor (B=32, N=32,000,
    D=128 is 524 MB in float32) and autograd keeps it alive until backward.
    Here the rows are gathered ``chunk`` queries at a time (into a scratch
    buffer the bank keeps, :meth:`MemoryBank.gather_rows`) in forward and
    gathered again in backward, so peak memory is ``chunk x N x D``. The bank
    is a buffer: no gradient flows into it.

    Gathering again in backward is only correct if the bank has not been
    written since forward; forward records the bank's write version and
    backward refuses to run if it changed (see
    :meth:`MemoryBank.check_unchanged_since`).
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

    ``out[b, n, k] = <bank[idx[b, n]], q[b, k]>`` computed as
    ``S = q @ bank.T`` (``B x K x M``) and ``S.gather(idx)``; backward
    scatters the gradient into a ``B x K x M`` matrix and multiplies it by
    the bank. Same numbers as :class:`GatherScores` (up to the order of
    float32 sums), but two matrix products instead of gathering ``B x N``
    rows of ``D`` floats twice: when the bank is not much larger than
    ``N`` this is several times faster on the CPU (forward + backward,
    B=64, N=4,096, M=10,000: 58 ms against 491 ms for the gather, 2 cores,
    ``tools/benchmarks/bank_ops.py --score-modes``), because the gather is
    bound by memory traffic and the products are not. For ImageNet-size
    banks (M=1.28M, N=32,000) the products cost more than the gather (1017
    against 475 ms); :meth:`MemoryBank.score` picks (``score_mode``).

    Backward reads the bank again, so, as for :class:`GatherScores`, it
    refuses to run if the bank was written since forward.
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
