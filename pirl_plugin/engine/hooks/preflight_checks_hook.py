"""Refuse a training run that cannot do what its config says."""
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from .run_checks import (check_bank_fits_dataset, check_checkpoint_bank,
                         check_schedule_covers_training,
                         check_train_epoch_length)


@HOOKS.register_module()
class PreflightChecksHook(Hook):
    """Run the checks of :mod:`.run_checks` at the points of the run where
    they can first be made.

    - ``before_run``: a training dataset smaller than one batch; a memory
      bank sized for another dataset, more negatives than images.
    - ``after_load_checkpoint``: a checkpoint whose bank was written for a
      dataset of another length, a resumed checkpoint without a bank
      (before any weight is loaded).
    - ``before_train``: a learning-rate schedule that ends before training
      does (after a resume has restored the schedulers).

    Models without a memory bank pass the bank checks. The plugin's
    runtimes (``configs/_base_/default_runtime.py``) register it in
    ``default_hooks`` as ``preflight_checks``.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        check_train_epoch_length(runner)
        check_bank_fits_dataset(runner)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        check_checkpoint_bank(runner, checkpoint)

    def before_train(self, runner) -> None:
        check_schedule_covers_training(runner)
