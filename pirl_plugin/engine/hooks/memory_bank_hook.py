"""``MemoryBankHook``: the deprecated name of the memory-bank hooks."""
import warnings
from typing import List, Optional

from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from .bank_consistency_hook import BankConsistencyHook
from .bank_update_hook import BankUpdateHook
from .collapse_guard_hook import CollapseGuardHook
from .preflight_checks_hook import PreflightChecksHook


@HOOKS.register_module()
class MemoryBankHook(Hook):
    """Deprecated: :class:`BankUpdateHook`, :class:`CollapseGuardHook` and
    :class:`BankConsistencyHook` in one hook, plus
    :class:`PreflightChecksHook` when the runner has none.

    Kept so that configs written for earlier versions train as before;
    building it warns (``FutureWarning``). New configs list the hooks
    themselves (``configs/_base_/default_runtime.py``).

    Args:
        check_interval (int): :class:`BankConsistencyHook`'s ``interval``;
            0 disables the check. Defaults to 0.
        **guard_cfg: :class:`CollapseGuardHook`'s arguments
            (``stats_interval``, ``collapse_threshold``, ``collapse_window``,
            ``collapse_min_drop``, ``collapse_warmup``).
    """

    priority = 'NORMAL'

    def __init__(self, check_interval: int = 0, **guard_cfg) -> None:
        warnings.warn(
            'MemoryBankHook is deprecated: list BankUpdateHook, '
            'CollapseGuardHook (stats_interval, collapse_*) and, for the '
            'cross-rank check, BankConsistencyHook(interval=check_interval) '
            'in custom_hooks, and PreflightChecksHook in default_hooks, as '
            'configs/_base_/default_runtime.py does',
            FutureWarning,
            stacklevel=2)
        self.guard = CollapseGuardHook(**guard_cfg)
        self.parts: List[Hook] = [
            BankUpdateHook(), self.guard,
            BankConsistencyHook(check_interval)
        ]

    def before_run(self, runner) -> None:
        if not any(
                isinstance(h, PreflightChecksHook)
                for h in runner.hooks + self.parts):
            self.parts.insert(0, PreflightChecksHook())
        for hook in self.parts:
            hook.before_run(runner)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        for hook in self.parts:
            hook.after_load_checkpoint(runner, checkpoint)

    def before_train(self, runner) -> None:
        for hook in self.parts:
            hook.before_train(runner)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        for hook in self.parts:
            hook.after_train_iter(runner, batch_idx, data_batch, outputs)

    def after_train_epoch(self, runner) -> None:
        for hook in self.parts:
            hook.after_train_epoch(runner)

    def check_collapse(self, logger, sim: float, refreshes: float) -> bool:
        """:meth:`CollapseGuardHook.check_collapse`."""
        return self.guard.check_collapse(logger, sim, refreshes)

    check_consistency = staticmethod(BankConsistencyHook.check_consistency)
