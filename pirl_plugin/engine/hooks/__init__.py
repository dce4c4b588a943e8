from .knn_monitor_hook import KNNMonitorHook
from .memory_bank_hook import MemoryBankHook
from .rng_state_hook import RNGStateHook
from .run_checks import TrainingConfigError
from .skipped_images_hook import SkippedImagesHook

__all__ = [
    'KNNMonitorHook', 'MemoryBankHook', 'RNGStateHook', 'SkippedImagesHook',
    'TrainingConfigError'
]
