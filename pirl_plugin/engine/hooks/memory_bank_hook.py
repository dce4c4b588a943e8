"""Lifecycle of the PIRL memory bank around the MMEngine runner."""
from typing import List, Optional, Tuple

import torch
from mmengine import dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from .run_checks import (TrainingConfigError, check_schedule_covers_training,
                         check_train_epoch_length)
from .utils import checkpoint_due


def _get_bank(runner):
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    bank = getattr(model, 'memory_bank', None)
    if bank is None:
        raise TypeError(
            f'MemoryBankHook needs a model with a `memory_bank` (PIRL), but '
            f'the model is {type(model).__name__}; remove MemoryBankHook from '
            'custom_hooks')
    return model, bank


@HOOKS.register_module()
class MemoryBankHook(Hook):
    """Sizes, checks, commits and monitors the memory bank.

    - ``before_run``: sizes the bank from the length of the training dataset
      (the config does not hard-code it) and initialises it with random unit
      vectors, identical on every rank; refuses a bank whose length does not
      match, and a number of negatives the bank cannot provide; refuses a
      dataset smaller than one batch (:mod:`.run_checks`).
    - ``before_train``: refuses a learning-rate schedule that ends before
      training does (:mod:`.run_checks`).
    - ``after_load_checkpoint``: refuses a checkpoint whose bank was trained
      on a dataset of another length, before any weight is loaded.
    - ``after_train_iter``: commits the staged bank update (after backward
      and the optimiser step, so the gradients are those of the bank the
      loss read and checkpoints hold the up-to-date bank; PIRL refuses to
      stage a second update that nothing committed, so it does not train
      without this hook) and records
      the update statistics for the logger; every ``check_interval``
      iterations (off by default) compares the bank's checksum across ranks
      and stops with an error if they differ.

    The collapse guard: every ``stats_interval`` iterations the bank's mean
    pairwise cosine similarity is logged as ``bank_pairwise_sim``; the hook
    warns when, after ``collapse_warmup`` bank refreshes, it has stayed above
    ``collapse_threshold`` for ``collapse_window`` refreshes and fell by less
    than ``collapse_min_drop`` from its highest reading in that window
    (:meth:`check_collapse`).

    Args:
        check_interval (int): iterations between cross-rank checksum checks;
            0 disables them. Defaults to 0.
        stats_interval (int): iterations between ``bank_pairwise_sim``
            readings (and collapse checks); 0 disables them. Defaults to 50.
        collapse_threshold (float): similarity above which the bank counts
            as concentrated. Defaults to 0.7.
        collapse_window (float): how long, in bank refreshes (rows written /
            bank size), the similarity must stay above the threshold
            without falling before the guard warns. Defaults to 10.
        collapse_min_drop (float): a fall from the window's highest reading
            of at least this much counts as recovering, and keeps the guard
            silent. Defaults to 0.1.
        collapse_warmup (float): refreshes before the first check (the bank
            starts as random unit vectors). Defaults to 2.

    The defaults were chosen on the 20 runs of the one-factor grid in
    ``docs/small_data.md``: every healthy run's similarity first rises to
    0.76-0.90 while the bank is refilled with the features of the initial
    network, then falls below 0.7 within 8 refreshes; every run that ended
    concentrated (0.75-0.96) stayed above 0.7 for longer than 10 while
    falling by less than 0.1 in 10. The level alone cannot separate them (a
    healthy run peaked at 0.90, a bad one plateaued at 0.85).
    """

    priority = 'NORMAL'

    def __init__(self,
                 check_interval: int = 0,
                 stats_interval: int = 50,
                 collapse_threshold: float = 0.7,
                 collapse_window: float = 10.0,
                 collapse_min_drop: float = 0.1,
                 collapse_warmup: float = 2.0) -> None:
        for name, value in (('check_interval', check_interval),
                            ('stats_interval', stats_interval),
                            ('collapse_min_drop', collapse_min_drop),
                            ('collapse_warmup', collapse_warmup)):
            if value < 0:
                raise ValueError(
                    f'MemoryBankHook {name} must be >= 0, got {value}')
        if not -1.0 <= collapse_threshold <= 1.0:
            raise ValueError('MemoryBankHook collapse_threshold must be in '
                             f'[-1, 1], got {collapse_threshold}')
        if not collapse_window > 0:
            raise ValueError('MemoryBankHook collapse_window (bank refreshes) '
                             f'must be > 0, got {collapse_window}')
        self.check_interval = check_interval
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

    @staticmethod
    def _dataset_len(runner) -> int:
        return len(runner.train_dataloader.dataset)

    def before_run(self, runner) -> None:
        try:
            n = self._dataset_len(runner)
        except Exception:  # no training dataloader (test / val only)
            return
        check_train_epoch_length(runner)
        model, bank = _get_bank(runner)
        # Negatives are drawn by a counter-based hash of the run's seed.
        # With `randomness.diff_rank_seed` runner.seed is seed + rank, so
        # rank 0's is broadcast: the draw must not depend on the rank.
        seed = [int(runner.seed or 0)]
        if dist.get_world_size() > 1:
            dist.broadcast_object_list(seed, src=0)
        bank.sampling_seed = seed[0]
        if bank.num_samples == 0:
            bank.reset(n)
            runner.logger.info(
                f'MemoryBankHook: memory bank of {n} x {bank.feat_dim} '
                f'({str(bank.dtype).replace("torch.", "")}) initialised with '
                'random unit vectors')
        elif bank.num_samples != n:
            raise TrainingConfigError(
                f'The memory bank has {bank.num_samples} entries but the '
                f'training dataset has {n} images; the bank needs one entry '
                'per image. Remove `memory_bank.num_samples` from the config '
                '(MemoryBankHook then sizes the bank from the dataset).')
        head = getattr(model, 'head', None)
        num_neg = getattr(head, 'num_negatives', None)
        if num_neg is not None and num_neg >= n:
            raise TrainingConfigError(
                f'head.num_negatives={num_neg} must be smaller than the '
                f'number of training images ({n}): negatives are drawn from '
                f'the other images\' bank entries. Use at most {n - 1}.')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('state_dict', checkpoint)
        key = next((k for k in state if k.endswith('memory_bank.bank')), None)
        if key is None:
            if getattr(runner, '_resume', False):
                raise TrainingConfigError(
                    'The checkpoint being resumed has no memory bank '
                    '(no `memory_bank.bank` in its state_dict), so training '
                    'would go on with a random bank. Resume from a checkpoint '
                    'written by PIRL training with MemoryBankHook, or use '
                    '`load_from` (not --resume) to start a new run from its '
                    'weights.')
            return
        try:
            n = self._dataset_len(runner)
        except Exception:
            return
        if state[key].shape[0] != n:
            raise TrainingConfigError(
                f'The checkpoint\'s memory bank has {state[key].shape[0]} '
                f'entries but the training dataset has {n} images: the '
                'dataset changed since the checkpoint was written. Resume '
                'on the original dataset, or start a new run (the checkpoint '
                'is left untouched).')

    def before_train(self, runner) -> None:
        check_schedule_covers_training(runner)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        _, bank = _get_bank(runner)
        pending = getattr(bank, '_pending', None)
        if pending is not None:
            self._rows_written += int(pending[0].numel())
        stats = bank.commit()
        for name, value in stats.items():
            runner.message_hub.update_scalar(f'train/{name}', value)
        if self.stats_interval and self.every_n_train_iters(
                runner, self.stats_interval):
            sim = bank.pairwise_similarity()
            runner.message_hub.update_scalar('train/bank_pairwise_sim', sim)
            self.check_collapse(runner.logger, sim,
                                self._rows_written / bank.num_samples)
        if self.check_interval and self.every_n_train_iters(
                runner, self.check_interval):
            self.check_consistency(bank, runner.iter + 1)
        if checkpoint_due(runner, by_epoch=False):
            self._prepare_checkpoint(bank)

    def after_train_epoch(self, runner) -> None:
        _, bank = _get_bank(runner)
        if checkpoint_due(runner, by_epoch=True):
            self._prepare_checkpoint(bank)

    def check_collapse(self, logger, sim: float, refreshes: float) -> bool:
        """The collapse guard: record one ``bank_pairwise_sim`` reading and
        warn (once per episode above the threshold) when the similarity has
        been above ``collapse_threshold`` for at least ``collapse_window``
        refreshes and its latest reading is less than ``collapse_min_drop``
        below the highest reading of the last ``collapse_window`` refreshes:
        high and not falling. A high but falling similarity is the normal
        start of a run (the bank is refilled with the nearly identical
        features of the initial network, then spreads out).

        Args:
            logger: where the warning goes (``runner.logger``).
            sim (float): the bank's mean pairwise cosine similarity.
            refreshes (float): rows written so far / bank size.

        Returns:
            bool: whether the warning was issued by this reading.
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
            'MemoryBankHook: the memory bank is collapsing: the mean cosine '
            'similarity between different entries (bank_pairwise_sim) has '
            f'stayed above {self.collapse_threshold} for '
            f'{refreshes - self._high[0][0]:.1f} bank refreshes and is not '
            f'falling (last {self.collapse_window:g} refreshes: {readings}; '
            'random unit vectors give about 0, healthy small runs fall below '
            '0.4). The features of different images point the same way, so '
            'nearest-neighbour retrieval and kNN accuracy suffer. At small '
            'scale (thousands of images, one GPU or a CPU) use a temperature '
            'of 0.2 (model.head.temperature=0.2) and a learning rate not '
            'below 0.06 per 64 images (the linear scaling of the paper\'s '
            '0.03 per 256 stayed concentrated), as the small-data presets in '
            'configs/pirl/ do (see docs/small_data.md); check that the loss '
            'is decreasing and that the partition function Z (z_transform, '
            'z_image in the log) is not stuck.')
        return True

    @staticmethod
    def _prepare_checkpoint(bank) -> None:
        """A sharded bank gathers its shards for the checkpoint that
        CheckpointHook (lower priority) writes next in this event."""
        if hasattr(bank, 'prepare_checkpoint'):
            bank.prepare_checkpoint()

    @staticmethod
    def check_consistency(bank, iteration: int) -> None:
        """Raise if the bank differs between ranks."""
        if dist.get_world_size() == 1:
            return
        local = torch.tensor([bank.consistency_signature()],
                             dtype=torch.float64,
                             device=bank.bank.device)
        sums = [float(t) for t in dist.all_gather(local)]
        if max(sums) != min(sums):
            raise RuntimeError(
                f'Memory bank differs across ranks at iteration {iteration} '
                f'(checksums per rank: {sums}). The bank updates were not '
                'applied identically; check that every rank runs the same '
                'config and that MemoryBankHook is enabled on all ranks.')
