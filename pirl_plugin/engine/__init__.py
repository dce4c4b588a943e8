from . import hooks
from .hooks import *  # noqa: F401,F403
from .runner import PIRLRunner
from .stop import TrainingInterrupted, continue_command, stop_on_signals
from .user_errors import USER_ERRORS, check_training_cfg

__all__ = hooks.__all__ + [
    'PIRLRunner', 'TrainingInterrupted', 'USER_ERRORS', 'check_training_cfg',
    'continue_command', 'stop_on_signals'
]
