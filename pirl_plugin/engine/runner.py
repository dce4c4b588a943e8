"""The plugin's runner: MMEngine's :class:`~mmengine.runner.Runner` plus
what a training command line needs and MMEngine's hooks and config cannot
give it."""
import copy
import os.path as osp
import signal
import sys
from typing import Union

import torch
from mmengine.config import Config, ConfigDict
from mmengine.dist import is_main_process
from mmengine.logging import MMLogger
from mmengine.runner import Runner, find_latest_checkpoint
from mmpretrain.registry import RUNNERS
from torch import nn

from pirl_plugin.utils.atomic_file_backend import ATOMIC_BACKEND
from pirl_plugin.utils.cpu_memory import keep_freed_memory
from pirl_plugin.utils.launch import disable_persistent_workers_without_workers
from pirl_plugin.utils.private_access import train_loop_built
from .config_checks import check_config_before_build
from .hooks.run_checks import check_train_epoch_length
from .stop import (TrainingInterrupted, continue_command, program_name,
                   stop_on_signals)
from .user_errors import USER_ERRORS, check_training_cfg, exit_on_user_error


@RUNNERS.register_module()
class PIRLRunner(Runner):
    """MMEngine's runner with what no hook or config option can add:

    1. checks of the config before MMEngine's runner writes or builds
       anything (:func:`~.config_checks.check_config_before_build`: the
       loader, loop and schedule fields, the component types, the
       arguments of the plugin's components); pre-flight checks before
       the data and the schedulers are built
       (:func:`~.user_errors.check_training_cfg`: a missing or empty
       dataset, an unusable ``--resume`` checkpoint; a dataset smaller than
       one batch, on which MMEngine's schedulers fail before any hook
       runs);
    2. the errors in :data:`~.user_errors.USER_ERRORS` (every
       :class:`~pirl_plugin.utils.config_errors.ConfigValueError`) end the
       process with one line (printed, and logged once the runner has a
       log, exit status 1), without a traceback, from :meth:`from_cfg` and
       :meth:`train`;
    3. SIGTERM/SIGINT stop training in order (:func:`~.stop.
       stop_on_signals`): the message names the last complete checkpoint
       and the command that continues the run (exit status 128 + the
       signal's number);
    4. every local checkpoint for which no file backend was chosen is
       written atomically (the ``'atomic_local'`` backend), whichever
       ``CheckpointHook`` (or other caller) writes it;
    5. ``persistent_workers=False`` in the data loaders without workers
       (:meth:`from_cfg`), which PyTorch requires;
    6. on a machine without CUDA, freed memory is kept for reuse
       (:func:`pirl_plugin.utils.cpu_memory.keep_freed_memory`).

    Selected with ``runner_type = 'mmpretrain.PIRLRunner'`` (the scope
    prefix lets MMPretrain's ``tools/train.py`` find it). Its arguments are
    those of :class:`mmengine.runner.Runner`. Meant for command-line entry
    points: :meth:`from_cfg` and :meth:`train` raise ``SystemExit`` on user
    errors and stop signals; use MMEngine's ``Runner`` to get the
    exceptions instead.
    """

    @classmethod
    def from_cfg(cls, cfg: Union[Config, ConfigDict, dict]) -> 'PIRLRunner':
        """Check the config, then build the runner as MMEngine's
        ``from_cfg`` does, with ``persistent_workers=False`` in the loaders
        without workers.

        Args:
            cfg (Config or dict): the config (not modified).

        Returns:
            PIRLRunner: the runner.

        Raises:
            SystemExit: with the one-line message (exit status 1) for the
                errors in :data:`USER_ERRORS`.
        """
        cfg = copy.deepcopy(cfg)
        disable_persistent_workers_without_workers(cfg)
        try:
            check_config_before_build(cfg)  # nothing written yet
        except USER_ERRORS as exc:
            exit_on_user_error(exc)
        try:
            return super().from_cfg(cfg)
        except USER_ERRORS as exc:  # the runner's log exists by then
            exit_on_user_error(exc, MMLogger.get_current_instance())

    def train(self) -> nn.Module:
        """Check the run, then train as MMEngine does.

        Returns:
            nn.Module: the model after training.

        Raises:
            SystemExit: with the one-line message (exit status 1) for the
                errors in :data:`USER_ERRORS`, with status 128 + the
                signal's number after a stop signal.
        """
        if not torch.cuda.is_available() and keep_freed_memory():
            self.logger.info(
                'PIRLRunner: CPU training: freed memory is kept for reuse '
                '(glibc mallopt; PIRL_KEEP_FREED_MEMORY=0 turns it off), '
                'see pirl_plugin/utils/cpu_memory.py')
        with stop_on_signals():
            try:
                check_training_cfg(self.cfg, bool(self.cfg.get('resume')),
                                   self.cfg.get('load_from'), self.work_dir)
                # builds the training loop and its data loader (train()
                # reuses them) before MMEngine's schedulers fail on an
                # empty epoch
                check_train_epoch_length(self)
                return super().train()
            except TrainingInterrupted as exc:
                self._exit_interrupted(str(exc))
            except USER_ERRORS as exc:
                exit_on_user_error(exc, self.logger)

    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        """MMEngine's ``save_checkpoint``; a local checkpoint for which the
        caller chose no file backend (``file_client_args``, the third
        positional argument, or ``backend_args``) is written through the
        ``'atomic_local'`` backend.

        Args:
            out_dir (str): the folder of the checkpoint.
            filename (str): its file name.
            *args, **kwargs: the other arguments of
                :meth:`mmengine.runner.Runner.save_checkpoint`.
        """
        chosen = (args[0] if args else kwargs.get('file_client_args'),
                  kwargs.get('backend_args'))
        if chosen == (None, None) and '://' not in str(out_dir):
            kwargs['backend_args'] = dict(backend=ATOMIC_BACKEND)
        super().save_checkpoint(out_dir, filename, *args, **kwargs)

    def _exit_interrupted(self, signame: str) -> None:
        """Say where the run stopped, which checkpoint is the last and how
        to continue; end the process with status 128 + the signal."""
        work_dir = self.work_dir
        last = find_latest_checkpoint(work_dir) if osp.isdir(
            work_dir) else None
        where = (f'the last checkpoint is {last} (written completely before '
                 'the signal)' if last else 'no checkpoint was written yet')
        at = (f'at iteration {self.iter} (epoch {self.epoch + 1})'
              if train_loop_built(self) else 'before training started')
        msg = (f'{program_name()}: stopped by {signame} {at}; {where}. '
               f'Continue with: {continue_command(work_dir)}')
        if is_main_process():
            self.logger.warning(msg)
            print(msg, file=sys.stderr, flush=True)
        raise SystemExit(128 + signal.Signals[signame].value) from None
