"""The plugin's runner: MMEngine's :class:`~mmengine.runner.Runner` with the
behaviour a training command line needs, for every entry point.

The training configs select it with ``runner_type`` (``configs/_base_/
default_runtime.py``), so MMPretrain's own ``tools/train.py``, ``mim train
mmpretrain <config>`` (which runs that script) and the plugin's
``tools/train.py`` train the same way:

* pre-flight checks before anything slow or confusing happens: a missing or
  empty dataset, an unusable ``--resume`` checkpoint, a dataset smaller than
  one batch (before MMEngine builds the schedulers, which would fail on it
  with ``epoch_length must be a positive integer``);
* mistakes a user can fix (:data:`USER_ERRORS`) end the run with one line,
  printed and logged, and exit status 1, without a traceback;
* SIGTERM (schedulers, ``kill``) and SIGINT (Ctrl-C) stop training in order:
  the message names the last complete checkpoint and the command that
  continues the run (exit status 128 + the signal's number); a second
  signal kills at once;
* checkpoints are written atomically (the ``'atomic_local'`` file backend of
  :mod:`pirl_plugin.utils.atomic_file_backend`), so the last one is always
  complete;
* on a machine without CUDA, freed memory is kept for reuse instead of
  being returned to the system and faulted in again every iteration
  (:mod:`pirl_plugin.utils.cpu_memory`; a third of a CPU step's time);
* data loaders without workers get ``persistent_workers=False`` (MMPretrain's
  ``tools/train.py`` turns it on for every loader, which PyTorch refuses
  with ``num_workers=0``).

The messages start with the program as it was run (``sys.argv[0]``, e.g.
``tools/train.py``), and the continue command is built from ``sys.argv``,
so both are right for whichever entry point ran.
"""
import contextlib
import copy
import os
import os.path as osp
import shlex
import signal
import sys
from typing import Iterator, List, Optional, Sequence, Union

import torch
from mmengine.config import Config, ConfigDict
from mmengine.dist import is_main_process
from mmengine.runner import Runner, find_latest_checkpoint
from mmengine.runner.base_loop import BaseLoop
from mmpretrain.registry import RUNNERS
from torch import nn

from pirl_plugin.datasets.checks import DatasetConfigError, check_dataset_cfg
from pirl_plugin.datasets.transforms import ImageDecodeError
from pirl_plugin.utils.atomic_file_backend import ATOMIC_BACKEND
from pirl_plugin.utils.checkpoints import (CheckpointError,
                                           check_resume_checkpoint)
from pirl_plugin.utils.cpu_memory import keep_freed_memory
from pirl_plugin.utils.launch import disable_persistent_workers_without_workers
from .hooks.run_checks import TrainingConfigError, check_train_epoch_length

# Errors whose message says all a user needs: printed (and logged) on one
# line, without a traceback.
USER_ERRORS = (CheckpointError, DatasetConfigError, ImageDecodeError,
               TrainingConfigError, FloatingPointError)

# Signals that stop training in order (see stop_on_signals).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class TrainingInterrupted(BaseException):
    """Raised in the main process when SIGTERM or SIGINT arrives during
    :meth:`PIRLRunner.train`; its argument is the signal's name.

    A ``BaseException`` like ``KeyboardInterrupt``, so that code which
    catches ``Exception`` on the way up does not swallow it.
    """


@contextlib.contextmanager
def stop_on_signals(signals: Sequence[int] = STOP_SIGNALS) -> Iterator[None]:
    """Within the block, turn the first of ``signals`` into
    :class:`TrainingInterrupted` in the main process; a second signal
    kills at once (the default action). The previous handlers are restored
    on the way out.

    Forked data-loader workers inherit the handler and behave as without
    it: PyTorch's worker loop exits quietly on Ctrl-C's ``KeyboardInterrupt``
    and SIGTERM ends a worker. Outside the main thread (where handlers
    cannot be set) nothing changes.

    Args:
        signals (Sequence[int]): the signals to handle. Defaults to SIGTERM
            and SIGINT.
    """
    main_pid = os.getpid()

    def handler(signum, frame):
        signal.signal(signum, signal.SIG_DFL)  # a second one kills
        if os.getpid() != main_pid:  # a forked data-loader worker
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            os.kill(os.getpid(), signum)
            return
        raise TrainingInterrupted(signal.Signals(signum).name)

    previous = {}
    for sig in signals:
        try:
            previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread: keep the defaults
            break
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def program_name(argv0: Optional[str] = None) -> str:
    """The program as the user ran it, for messages: ``sys.argv[0]``,
    relative to the working directory when it lies below it."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    if osp.isabs(argv0):
        rel = osp.relpath(argv0)
        if not rel.startswith(os.pardir):
            return rel
    return argv0


def _is_option(arg: str, name: str) -> bool:
    """Whether ``arg`` is option ``name``, or an unambiguous argparse
    abbreviation of it, with or without ``=value``."""
    key = arg.split('=', 1)[0]
    return len(key) > 3 and name.startswith(key)


def continue_command(work_dir: str,
                     argv: Optional[Sequence[str]] = None) -> str:
    """The command that continues a stopped run: the command line that
    started it (``sys.argv``) with ``--resume`` (from the latest checkpoint
    of the work directory) instead of any ``--resume`` it had, and
    ``--work-dir`` added if it was not given.

    Args:
        work_dir (str): the run's work directory.
        argv (Sequence[str], optional): the command line; defaults to
            ``sys.argv``.

    Returns:
        str: a shell command (``python <script> ...``), or, when the run
        was not started from a script, what to add to the command.
    """
    argv = list(sys.argv if argv is None else argv)
    script, rest = (argv[0] if argv else ''), argv[1:]
    kept: List[str] = []
    has_work_dir = launcher = False
    i = 0
    while i < len(rest):
        arg = rest[i]
        if _is_option(arg, '--resume'):
            if ('=' not in arg and i + 1 < len(rest)
                    and not rest[i + 1].startswith('-')):
                i += 1  # its checkpoint path
        elif arg.split('=', 1)[0] in ('--local_rank', '--local-rank'):
            if '=' not in arg:
                i += 1  # set again by the distributed launcher
        else:
            has_work_dir |= _is_option(arg, '--work-dir')
            if _is_option(arg, '--launcher'):
                value = (
                    arg.split('=', 1)[1] if '=' in arg else
                    rest[i + 1] if i + 1 < len(rest) else 'none')
                launcher = value != 'none'
            kept.append(arg)
        i += 1
    extra = ([] if has_work_dir else ['--work-dir', work_dir]) + ['--resume']
    if not script.endswith('.py'):
        return f'the same command with {shlex.join(extra)}'
    cmd = shlex.join(['python', program_name(script)] + kept + extra)
    if launcher:
        cmd += (' (started through the same distributed launcher as before, '
                'e.g. torchrun, tools/dist_train.sh or srun)')
    return cmd


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


@RUNNERS.register_module()
class PIRLRunner(Runner):
    """MMEngine's runner with pre-flight checks, one-line errors, an orderly
    stop on SIGTERM/SIGINT and atomic checkpoints (see the module's
    docstring).

    Selected in a config with ``runner_type = 'mmpretrain.PIRLRunner'``
    (the scope prefix is needed because MMPretrain's ``tools/train.py``
    builds the runner before any default scope is set, when only scoped
    names reach MMPretrain's registry). The tools and ``Runner.from_cfg``
    build it like MMEngine's runner; its arguments are those of
    :class:`mmengine.runner.Runner`.

    Meant for command-line entry points: :meth:`train` ends the process
    (``SystemExit``) on the errors in :data:`USER_ERRORS` and on the stop
    signals. Use MMEngine's ``Runner`` to get the exceptions instead.
    """

    @classmethod
    def from_cfg(cls, cfg: Union[Config, ConfigDict, dict]) -> 'PIRLRunner':
        """Build the runner from a config, as MMEngine's ``from_cfg`` does,
        with ``persistent_workers=False`` in the loaders without workers.

        Args:
            cfg (Config or dict): the config (not modified).

        Returns:
            PIRLRunner: the runner.
        """
        cfg = copy.deepcopy(cfg)
        disable_persistent_workers_without_workers(cfg)
        return super().from_cfg(cfg)

    def train(self) -> nn.Module:
        """Check the run, then train as MMEngine does; stop in order on
        SIGTERM/SIGINT and with one line on a user error.

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
                check_training_cfg(self.cfg, self._resume, self._load_from,
                                   self.work_dir)
                # builds the training loop and its data loader (train()
                # reuses them): refuses a dataset smaller than one batch
                # before MMEngine's schedulers fail on it
                check_train_epoch_length(self)
                return super().train()
            except TrainingInterrupted as exc:
                self._exit_interrupted(str(exc))
            except USER_ERRORS as exc:
                self._exit_user_error(exc)

    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None) -> None:
        """MMEngine's ``save_checkpoint``, writing a local checkpoint
        atomically (through the ``'atomic_local'`` file backend) unless the
        caller chose a file backend.

        Args: those of :meth:`mmengine.runner.Runner.save_checkpoint`.
        """
        if (file_client_args is None and backend_args is None
                and '://' not in str(out_dir)):
            backend_args = dict(backend=ATOMIC_BACKEND)
        super().save_checkpoint(
            out_dir,
            filename,
            file_client_args=file_client_args,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler,
            meta=meta,
            by_epoch=by_epoch,
            backend_args=backend_args)

    def _exit_user_error(self, exc: BaseException) -> None:
        """Log the error's one-line message and end the process with it."""
        what = ('dataset' if isinstance(exc, DatasetConfigError) else
                '--resume' if isinstance(exc, CheckpointError) else 'error')
        msg = f'{program_name()}: {what}: {user_message(exc)}'
        self.logger.error(msg)
        raise SystemExit(msg) from None

    def _exit_interrupted(self, signame: str) -> None:
        """Say where the run stopped, which checkpoint is the last and how
        to continue; end the process with status 128 + the signal."""
        work_dir = self.work_dir
        last = find_latest_checkpoint(work_dir) if osp.isdir(
            work_dir) else None
        where = (f'the last checkpoint is {last} (written completely before '
                 'the signal)' if last else 'no checkpoint was written yet')
        at = (f'at iteration {self.iter} (epoch {self.epoch + 1})'
              if isinstance(self._train_loop, BaseLoop) else
              'before training started')
        msg = (f'{program_name()}: stopped by {signame} {at}; {where}. '
               f'Continue with: {continue_command(work_dir)}')
        if is_main_process():
            self.logger.warning(msg)
            print(msg, file=sys.stderr, flush=True)
        raise SystemExit(128 + signal.Signals[signame].value) from None
