from . import hooks
from .hooks import *  # noqa: F401,F403
from .runner import (USER_ERRORS, PIRLRunner, TrainingInterrupted,
                     check_training_cfg, continue_command, stop_on_signals)

__all__ = hooks.__all__ + [
    'PIRLRunner', 'TrainingInterrupted', 'USER_ERRORS', 'check_training_cfg',
    'continue_command', 'stop_on_signals'
]
