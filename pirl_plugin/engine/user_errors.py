"""Mistakes a user can fix: the pre-flight checks of a training config and
their one-line messages."""
import logging
import os.path as osp
from typing import NoReturn, Optional, Union

from mmengine.config import Config
from mmengine.runner import find_latest_checkpoint

from pirl_plugin.datasets.checks import DatasetConfigError, check_dataset_cfg
from pirl_plugin.datasets.transforms import ImageDecodeError
from pirl_plugin.utils.checkpoints import (CheckpointError,
                                           check_resume_checkpoint)
from pirl_plugin.utils.config_errors import ConfigValueError
from .stop import program_name

# Errors whose message says all a user needs: printed (and logged) on one
# line, without a traceback. ConfigValueError covers every component's
# refused argument, the training config checks (TrainingConfigError) and
# the dataset checks (DatasetConfigError); any other exception keeps its
# traceback.
USER_ERRORS = (ConfigValueError, CheckpointError, ImageDecodeError,
               FloatingPointError)


def user_message(exc: BaseException) -> str:
    """The message of a user-facing error; for one re-raised from a
    data-loader worker (``Caught X in DataLoader worker process N.``
    followed by the worker's traceback) the worker's own message.

    Args:
        exc (BaseException): one of :data:`USER_ERRORS`.

    Returns:
        str: one line.
    """
    msg = str(exc)
    if msg.startswith('Caught ') and 'Original Traceback' in msg:
        where = msg.splitlines()[0][len('Caught '):].rstrip('.')
        name = f'{type(exc).__name__}: '
        lines = [ln for ln in msg.splitlines() if name in ln]
        if lines:
            inner = lines[-1].split(name, 1)[1]
            return f'{inner} (raised in {where.split(" in ", 1)[-1]})'
    return msg


def exit_on_user_error(exc: BaseException,
                       logger: Optional[logging.Logger] = None) -> NoReturn:
    """End the process with the one-line message of a user error
    (``<program>: <what>: <message>``, exit status 1), logged too when a
    logger is given.

    Args:
        exc (BaseException): one of :data:`USER_ERRORS`.
        logger (logging.Logger, optional): the run's logger; None before
            the runner has one (nothing is written then).

    Raises:
        SystemExit: always.
    """
    what = ('dataset' if isinstance(exc, DatasetConfigError) else
            '--resume' if isinstance(exc, CheckpointError) else 'error')
    msg = f'{program_name()}: {what}: {user_message(exc)}'
    if logger is not None:
        logger.error(msg)
    raise SystemExit(msg) from None


def check_training_cfg(cfg: Union[Config, dict], resume: bool,
                       load_from: Optional[str], work_dir: str) -> None:
    """Pre-flight checks of a training config, before the data and the
    schedulers are built: the training dataset exists and is not empty,
    and a checkpoint to resume from is a complete training checkpoint of
    this kind of model (read memory-mapped: cheap even with an ImageNet
    bank).

    Args:
        cfg (Config or dict): the run's config.
        resume (bool): whether the run resumes (``--resume``).
        load_from (str, optional): the checkpoint to resume from; None for
            the latest one in ``work_dir``.
        work_dir (str): the run's work directory.

    Raises:
        DatasetConfigError: missing or empty training data.
        CheckpointError: a missing, damaged or unsuitable checkpoint.
    """
    if (resume and load_from and '://' not in load_from
            and not osp.isfile(load_from)):
        raise CheckpointError(
            f'checkpoint file {load_from!r} not found. Pass a .pth written '
            'by this config, or --resume without a path to resume from the '
            f'latest checkpoint in {work_dir}')
    loader = cfg.get('train_dataloader') or {}
    check_dataset_cfg(loader.get('dataset'), 'train_dataloader.dataset')
    if resume:
        path = load_from or find_latest_checkpoint(work_dir)
        if path and '://' not in path:
            expect_bank = 'memory_bank' in (cfg.get('model') or {})
            check_resume_checkpoint(path, expect_memory_bank=expect_bank)
