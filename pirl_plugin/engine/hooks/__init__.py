from .bank_consistency_hook import BankConsistencyHook
from .bank_update_hook import BankUpdateHook
from .collapse_guard_hook import CollapseGuardHook
from .knn_monitor_hook import KNNMonitorHook
from .memory_bank_hook import MemoryBankHook
from .preflight_checks_hook import PreflightChecksHook
from .rng_state_hook import RNGStateHook
from .run_checks import TrainingConfigError
from .skipped_images_hook import SkippedImagesHook

__all__ = [
    'BankConsistencyHook', 'BankUpdateHook', 'CollapseGuardHook',
    'KNNMonitorHook', 'MemoryBankHook', 'PreflightChecksHook', 'RNGStateHook',
    'SkippedImagesHook', 'TrainingConfigError'
]
