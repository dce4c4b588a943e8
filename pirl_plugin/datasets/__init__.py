from .transforms import *  # noqa: F401,F403
from .checks import (DatasetConfigError, check_dataset_cfg,  # noqa: F401
                     check_epoch_length)
