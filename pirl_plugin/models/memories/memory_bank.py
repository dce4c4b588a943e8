"""The PIRL / NPID memory bank."""
from typing import Dict, Optional, Tuple

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from ...utils.config_errors import (ConfigValueError, check_choice,
                                    check_number, check_size)
from .bank_statistics import BankStatisticsMixin
from .bank_update import BankUpdateMixin
from .bank_writes import BankWritesMixin
from .counter_random import (INIT_DISTRIBUTIONS, counter_randint,
                             random_unit_rows)
from .scorers import DenseScores, GatherScores, ScratchGather

_DTYPES = {'float32': torch.float32, 'float16': torch.float16}


@MODELS.register_module()
class MemoryBank(BankUpdateMixin, BankWritesMixin, BankStatisticsMixin,
                 BaseModule):
    """A memory bank of one L2-normalised vector per training image.

    The bank is a registered buffer, so it is saved in and restored from
    checkpoints, and every rank holds the same copy: updates are all-gathered
    across ranks and the random initialisation is seeded identically.

    The update is two-phase: :meth:`stage_update` (called by the algorithm
    right after the loss) records the batch's indices and features,
    gathered from all ranks, without writing anything; :meth:`commit`
    writes them and is called by :class:`BankUpdateHook` after the
    optimiser step. Staging over an uncommitted update raises, and so does
    a scorer's backward if the bank was written since its forward
    (:meth:`check_unchanged_since`). Why: docs/design.md, "Memory bank: the
    two-phase update".

    Args:
        num_samples (int, optional): number of entries, one per training
            image. ``None`` (default) leaves the bank empty for
            :class:`BankUpdateHook` to size from the training dataset.
        feat_dim (int): dimension of each entry. Defaults to 128.
        momentum (float): weight of the old entry in the update
            ``m <- normalize(momentum * m + (1 - momentum) * f)``.
            Defaults to 0.5 (the paper).
        dtype (str): storage type, ``'float32'`` (default) or ``'float16'``
            (half the memory; scores are always computed in float32).
        init_seed (int): seed of the random unit-vector initialisation, the
            same on every rank. Defaults to 0.
        init_distribution (str): the rows normalised at initialisation:
            ``'normal'`` (default, Gaussian) or ``'uniform'`` (uniform in a
            cube, VISSL's rule).
        chunk_size (int): number of queries whose negatives are gathered at
            once when scoring (bounds the memory of the gather). Defaults
            to 4.
        score_mode (str): how per-sample negatives are scored: ``'gather'``
            (gather the ``B x N`` rows, :class:`GatherScores`), ``'dense'``
            (score the whole bank and pick, :class:`DenseScores`) or
            ``'auto'`` (default): dense while the bank has at most
            ``dense_max_ratio`` times ``N`` entries, gather otherwise.
            The same numbers either way (costs: docs/design.md, "Memory
            bank: scoring the negatives").
        dense_max_ratio (float): the ``'auto'`` threshold. Defaults to 16.
        init_cfg (dict, optional): initialisation config. Defaults to None.
    """

    def __init__(self,
                 num_samples: Optional[int] = None,
                 feat_dim: int = 128,
                 momentum: float = 0.5,
                 dtype: str = 'float32',
                 init_seed: int = 0,
                 init_distribution: str = 'normal',
                 chunk_size: int = 4,
                 score_mode: str = 'auto',
                 dense_max_ratio: float = 16.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_choice('MemoryBank', 'score_mode', score_mode,
                     ('auto', 'gather', 'dense'))
        check_choice('MemoryBank', 'init_distribution', init_distribution,
                     INIT_DISTRIBUTIONS)
        check_choice('MemoryBank', 'dtype', dtype, sorted(_DTYPES))
        check_number('MemoryBank', 'momentum', momentum)
        if not 0.0 <= momentum < 1.0:
            raise ConfigValueError(
                f'MemoryBank momentum must be in [0, 1), got {momentum}',
                'momentum')
        check_size('MemoryBank', 'feat_dim', feat_dim)
        if num_samples is not None:
            check_size('MemoryBank', 'num_samples', num_samples)
            if num_samples < 2:
                raise ConfigValueError(
                    'MemoryBank num_samples must be >= 2 (one positive and a '
                    f'negative), got {num_samples}', 'num_samples')
        self.feat_dim = feat_dim
        self.momentum = momentum
        self.dtype = _DTYPES[dtype]
        self.init_seed = init_seed
        self.init_distribution = init_distribution
        self.chunk_size = chunk_size
        self.score_mode = score_mode
        self.dense_max_ratio = float(dense_max_ratio)
        self.register_buffer('bank',
                             torch.zeros(0, feat_dim, dtype=self.dtype))
        # Number of committed updates: the counter of the negative sampling,
        # checkpointed so a resumed run draws the same negatives.
        self.register_buffer('num_updates', torch.zeros((), dtype=torch.long))
        # Seed of the negative sampling; BankUpdateHook sets the run's seed.
        self.sampling_seed = 0
        self._pending: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
        # Write version: bumped by every write to the bank (commit, reset,
        # checkpoint load); not state, never saved.
        self._version = 0
        self.last_stats: Dict[str, float] = {}
        # reusable gather buffers (not state: never saved or broadcast)
        self._gather = ScratchGather()
        if num_samples is not None:
            self.reset(num_samples)

    # ------------------------------------------------------------ lifecycle
    @property
    def num_samples(self) -> int:
        """Number of entries in the bank."""
        return self.bank.size(0)

    @torch.no_grad()
    def reset(self, num_samples: int) -> None:
        """Re-create the bank with ``num_samples`` random unit vectors.

        The vectors come from a generator seeded with ``init_seed``, so every
        rank creates the same bank without communication.

        Args:
            num_samples (int): the number of entries.
        """
        if num_samples < 2:
            raise ValueError('MemoryBank needs at least 2 entries, got '
                             f'{num_samples}')
        start, stop = self.shard_range(num_samples)
        self.bank = random_unit_rows(start, stop, self.feat_dim,
                                     self.init_seed, self.dtype,
                                     self.bank.device, self.init_distribution)
        self.num_updates.zero_()
        self._pending = None
        self._mark_written()

    def shard_range(self,
                    num_samples: Optional[int] = None) -> Tuple[int, int]:
        """``(start, stop)``: the rows of the bank this process holds (all
        of them here; :class:`ShardedMemoryBank` holds one shard a rank).

        Args:
            num_samples (int, optional): the bank size; defaults to
                :attr:`num_samples`.
        """
        return 0, self.num_samples if num_samples is None else num_samples

    # --------------------------------------------------------------- reading
    def check_ready(self) -> None:
        """Raise RuntimeError when the bank has not been sized yet."""
        if self.num_samples == 0:
            raise RuntimeError(
                'The memory bank is empty: add `BankUpdateHook` to '
                '`custom_hooks` so it is sized from the training dataset, '
                'or set `memory_bank.num_samples` in the config.')

    def get(self, idx: torch.Tensor) -> torch.Tensor:
        """Return the entries at ``idx`` as float32, shape ``(B, D)``."""
        self.check_ready()
        return self.bank[idx].float()

    def sample_negatives(self,
                         idx: torch.Tensor,
                         num_negatives: int,
                         shared: bool = False) -> torch.Tensor:
        """Draw negatives uniformly at random from the bank.

        Args:
            idx (Tensor): the batch's own indices, shape ``(B,)``.
            num_negatives (int): ``N``, the number of negatives per query.
            shared (bool): if False (the paper), draw ``N`` indices for each
                data point from the ``M - 1`` entries other than its own
                (shape ``(B, N)``; never the positive). If True, draw one set
                of ``N`` indices from all ``M`` entries for the whole batch
                (shape ``(N,)``); a drawn index equal to a query's own index
                must then be masked out by the caller.

        The draw is counter-based (see :func:`counter_randint`): a hash of
        the sampling seed, the number of committed updates and each sample's
        own index, so it is identical whatever the number of ranks and is
        reproduced exactly after ``--resume``.

        Returns:
            Tensor: indices into the bank.
        """
        self.check_ready()
        m = self.num_samples
        if num_negatives >= m:
            raise ValueError(
                f'num_negatives ({num_negatives}) must be smaller than the '
                f'memory bank size ({m}, the number of training images)')
        idx = idx.to(self.bank.device).long()
        step = int(self.num_updates)
        if shared:
            key = torch.full((1, ), -1, dtype=torch.long, device=idx.device)
            return counter_randint(m, self.sampling_seed, step, key,
                                   num_negatives)[0]
        neg = counter_randint(m - 1, self.sampling_seed, step, idx,
                              num_negatives)
        # Map [0, M-1) onto [0, M) \ {own index}: uniform over the others.
        return neg + (neg >= idx.view(-1, 1)).to(neg.dtype)

    def score(self, queries: torch.Tensor,
              neg_idx: torch.Tensor) -> torch.Tensor:
        """Dot products of queries with bank rows.

        Args:
            queries (Tensor): float ``(B, K, D)``, K queries per data point
                (PIRL scores g(v_It) and f(v_I) against the same negatives).
            neg_idx (Tensor): ``(B, N)`` per-sample or ``(N,)`` shared
                indices from :meth:`sample_negatives`.

        Returns:
            Tensor: ``(B, N, K)`` scores.
        """
        self.check_ready()
        if neg_idx.dim() == 1:
            rows = self.bank[neg_idx].to(queries.dtype)  # N, D
            return torch.einsum('nd,bkd->bnk', rows, queries)
        if self.uses_dense_scores(neg_idx.size(1)):
            return DenseScores.apply(queries, self, neg_idx)
        return GatherScores.apply(queries, self, neg_idx, self.chunk_size)

    def uses_dense_scores(self, num_negatives: int) -> bool:
        """Whether :meth:`score` scores ``num_negatives`` per-sample
        negatives through the whole bank (see ``score_mode``)."""
        if self.score_mode != 'auto':
            return self.score_mode == 'dense'
        return self.num_samples <= self.dense_max_ratio * num_negatives

    def gather_rows(self,
                    idx: torch.Tensor,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """``bank[idx]`` as ``dtype``, shape ``idx.shape + (D, )``.

        Written into a scratch buffer that is reused from call to call, so
        the result is only valid until the next call (why: docs/design.md,
        "Memory bank: scoring the negatives").
        """
        return self._gather(self.bank, idx, dtype)
