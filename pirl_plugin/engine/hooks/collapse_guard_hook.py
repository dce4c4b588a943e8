"""Log the memory bank's collapse statistic and warn when it collapses."""
from typing import List, Optional, Tuple

from mmengine import dist
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from ...utils.config_errors import ConfigValueError, check_number
from .utils import get_memory_bank

COLLAPSE_DOC = 'docs/troubleshooting.md#the-memory-bank-is-collapsing'


@HOOKS.register_module()
class CollapseGuardHook(Hook):
    """Log ``bank_pairwise_sim`` and warn when the memory bank collapses.

    Every ``stats_interval`` iterations the bank's mean pairwise cosine
    similarity (:meth:`MemoryBank.pairwise_similarity`, collective for a
    sharded bank) goes to the message hub as ``train/bank_pairwise_sim``
    and to :meth:`check_collapse`. Progress is measured in bank refreshes:
    rows written in this process (``len(data_samples)`` per rank and step)
    divided by the bank's size. The rule and the choice of its defaults are
    in ``docs/troubleshooting.md`` (the memory bank is collapsing).

    Args:
        stats_interval (int): iterations between readings; 0 disables the
            hook. Defaults to 50.
        collapse_threshold (float): similarity above which the bank counts
            as concentrated, in [-1, 1]. Defaults to 0.7.
        collapse_window (float): bank refreshes the similarity must stay
            above the threshold without falling before the hook warns;
            > 0. Defaults to 10.
        collapse_min_drop (float): a fall from the window's highest reading
            of at least this much counts as recovering. Defaults to 0.1.
        collapse_warmup (float): refreshes before the first check.
            Defaults to 2.
    """

    priority = 'NORMAL'

    def __init__(self,
                 stats_interval: int = 50,
                 collapse_threshold: float = 0.7,
                 collapse_window: float = 10.0,
                 collapse_min_drop: float = 0.1,
                 collapse_warmup: float = 2.0) -> None:
        name = type(self).__name__
        for key, value in (('stats_interval', stats_interval),
                           ('collapse_min_drop', collapse_min_drop),
                           ('collapse_warmup', collapse_warmup)):
            check_number(name, key, value)
            if value < 0:
                raise ConfigValueError(
                    f'{name} {key} must be >= 0, got {value}', key)
        check_number(name, 'collapse_threshold', collapse_threshold)
        check_number(name, 'collapse_window', collapse_window)
        if not -1.0 <= collapse_threshold <= 1.0:
            raise ConfigValueError(
                f'{name} collapse_threshold must be in [-1, 1], '
                f'got {collapse_threshold}', 'collapse_threshold')
        if not collapse_window > 0:
            raise ConfigValueError(
                f'{name} collapse_window (bank refreshes) must '
                f'be > 0, got {collapse_window}', 'collapse_window')
        self.stats_interval = stats_interval
        self.collapse_threshold = collapse_threshold
        self.collapse_window = collapse_window
        self.collapse_min_drop = collapse_min_drop
        self.collapse_warmup = collapse_warmup
        self._rows_written = 0
        # (refreshes, similarity) of the readings above the threshold since
        # the last one below it
        self._high: List[Tuple[float, float]] = []
        self._warned = False

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not self.stats_interval:
            return
        samples = (
            data_batch.get('data_samples') or
            () if isinstance(data_batch, dict) else ())
        self._rows_written += len(samples) * dist.get_world_size()
        if not self.every_n_train_iters(runner, self.stats_interval):
            return
        _, bank = get_memory_bank(runner, hook=type(self).__name__)
        sim = bank.pairwise_similarity()
        runner.message_hub.update_scalar('train/bank_pairwise_sim', sim)
        self.check_collapse(runner.logger, sim,
                            self._rows_written / bank.num_samples)

    def check_collapse(self, logger, sim: float, refreshes: float) -> bool:
        """Record one reading; warn (once per episode above the threshold)
        when the similarity has been above ``collapse_threshold`` for at
        least ``collapse_window`` refreshes and its latest reading is less
        than ``collapse_min_drop`` below the highest reading of the last
        ``collapse_window`` refreshes.

        Args:
            logger: where the warning goes (``runner.logger``).
            sim (float): the bank's mean pairwise cosine similarity.
            refreshes (float): rows written so far / bank size.

        Returns:
            bool: whether this reading issued the warning.
        """
        if refreshes < self.collapse_warmup or sim <= self.collapse_threshold:
            self._high = []
            self._warned = False
            return False
        self._high.append((refreshes, sim))
        since = refreshes - self.collapse_window
        if self._warned or self._high[0][0] > since:
            return False
        window = [s for r, s in self._high if r >= since]
        if max(window) - sim >= self.collapse_min_drop:
            return False
        self._warned = True
        readings = ', '.join(f'{s:.3f}' for s in window)
        logger.warning(
            f'{type(self).__name__}: the memory bank is collapsing: '
            f'bank_pairwise_sim has stayed above {self.collapse_threshold} '
            f'for {refreshes - self._high[0][0]:.1f} bank refreshes and is '
            f'not falling (last {self.collapse_window:g} refreshes: '
            f'{readings}). See {COLLAPSE_DOC}')
        return True
