"""A test-only hook: every rank saves its memory bank when the run ends, so
a test can compare the ranks' banks with each other and with a 1-process
run (imported through ``custom_imports`` with ``tests/helpers`` on
``PYTHONPATH``)."""
import os.path as osp

import torch
from mmengine import dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class DumpBankHook(Hook):
    """Save ``bank_rank{r}.pt`` (the rank's bank rows, its shard range and
    the whole bank's checksum) into the work dir after training."""

    def after_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        bank = model.memory_bank
        start, stop = (
            bank.shard_range() if hasattr(bank, 'shard_range') else
            (0, bank.num_samples))
        torch.save(
            dict(
                bank=bank.bank.detach().cpu().clone(),
                start=start,
                stop=stop,
                checksum=bank.checksum(),
                num_updates=int(bank.num_updates)),
            osp.join(runner.work_dir, f'bank_rank{dist.get_rank()}.pt'))
