"""Check that every rank holds the same memory bank."""
from typing import Optional

import torch
from mmengine import dist
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from ...utils.config_errors import ConfigValueError, check_number
from .utils import get_memory_bank


@HOOKS.register_module()
class BankConsistencyHook(Hook):
    """Compare the memory bank's checksum across ranks and stop with an
    error when they differ.

    Args:
        interval (int): training iterations between checks; 0 disables
            them. Defaults to 100.
    """

    priority = 'NORMAL'

    def __init__(self, interval: int = 100) -> None:
        check_number(type(self).__name__, 'interval', interval)
        if interval < 0:
            raise ConfigValueError(
                f'{type(self).__name__} interval must be >= 0, got {interval}',
                'interval')
        self.interval = interval

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if self.interval and self.every_n_train_iters(runner, self.interval):
            _, bank = get_memory_bank(runner, hook=type(self).__name__)
            self.check_consistency(bank, runner.iter + 1)

    @staticmethod
    def check_consistency(bank, iteration: int) -> None:
        """Raise if the bank differs between ranks (collective).

        Args:
            bank (MemoryBank): the bank, on every rank.
            iteration (int): the iteration, for the message.

        Raises:
            RuntimeError: with every rank's checksum.
        """
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
                'config and that BankUpdateHook is enabled on all ranks.')
