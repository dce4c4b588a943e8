from .checks import DatasetConfigError, check_dataset_cfg, check_epoch_length
from .transforms import *  # noqa: F401,F403

__all__ = ['DatasetConfigError', 'check_dataset_cfg', 'check_epoch_length']
