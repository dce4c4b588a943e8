"""Lifecycle of the PIRL memory bank around the MMEngine runner."""
from typing import Optional

import torch

from mmengine import dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from .utils import checkpoint_due


def _get_bank(runner):
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
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
      match, and a number of negatives the bank cannot provide.
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

    Args:
        check_interval (int): iterations between cross-rank checksum checks;
            0 disables them. Defaults to 0.
    """

    priority = 'NORMAL'

    def __init__(self, check_interval: int = 0) -> None:
        if check_interval < 0:
            raise ValueError(
                f'MemoryBankHook check_interval must be >= 0, got '
                f'{check_interval}')
        self.check_interval = check_interval

    @staticmethod
    def _dataset_len(runner) -> int:
        return len(runner.train_dataloader.dataset)

    def before_run(self, runner) -> None:
        try:
            n = self._dataset_len(runner)
        except Exception:  # no training dataloader (test / val only)
            return
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
            raise ValueError(
                f'The memory bank has {bank.num_samples} entries but the '
                f'training dataset has {n} images; the bank needs one entry '
                'per image. Remove `memory_bank.num_samples` from the config '
                '(MemoryBankHook then sizes the bank from the dataset).')
        head = getattr(model, 'head', None)
        num_neg = getattr(head, 'num_negatives', None)
        if num_neg is not None and num_neg >= n:
            raise ValueError(
                f'head.num_negatives={num_neg} must be smaller than the number '
                f'of training images ({n}): negatives are drawn from the '
                f'other images\' bank entries. Use at most {n - 1}.')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('state_dict', checkpoint)
        key = next((k for k in state if k.endswith('memory_bank.bank')), None)
        if key is None:
            if getattr(runner, '_resume', False):
                raise ValueError(
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
            raise ValueError(
                f'The checkpoint\'s memory bank has {state[key].shape[0]} '
                f'entries but the training dataset has {n} images: the '
                'dataset changed since the checkpoint was written. Resume '
                'on the original dataset, or start a new run (the checkpoint '
                'is left untouched).')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        _, bank = _get_bank(runner)
        stats = bank.commit()
        for name, value in stats.items():
            runner.message_hub.update_scalar(f'train/{name}', value)
        if self.check_interval and self.every_n_train_iters(
                runner, self.check_interval):
            self.check_consistency(bank, runner.iter + 1)
        if checkpoint_due(runner, by_epoch=False):
            self._prepare_checkpoint(bank)

    def after_train_epoch(self, runner) -> None:
        _, bank = _get_bank(runner)
        if checkpoint_due(runner, by_epoch=True):
            self._prepare_checkpoint(bank)

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
                             dtype=torch.float64, device=bank.bank.device)
        sums = [float(t) for t in dist.all_gather(local)]
        if max(sums) != min(sums):
            raise RuntimeError(
                f'Memory bank differs across ranks at iteration {iteration} '
                f'(checksums per rank: {sums}). The bank updates were not '
                'applied identically; check that every rank runs the same '
                'config and that MemoryBankHook is enabled on all ranks.')
