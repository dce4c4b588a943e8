"""Train a model with MMEngine's runner (MMPretrain's ``tools/train.py``
arguments), with the PIRL plugin registered."""
import argparse
import os
import os.path as osp
import signal
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner, find_latest_checkpoint

import pirl_plugin  # noqa: F401  registers the components, applies fixes
from pirl_plugin.datasets import DatasetConfigError, check_dataset_cfg
from pirl_plugin.datasets.transforms import ImageDecodeError
from pirl_plugin.engine.hooks.run_checks import (TrainingConfigError,
                                                 check_train_epoch_length)
from pirl_plugin.utils.checkpoints import (CheckpointError,
                                           check_resume_checkpoint)
from pirl_plugin.utils.launch import (merge_args,  # noqa: F401
                                      setup_cpu_distributed,
                                      shutdown_distributed)

# Errors whose message says all a user needs: printed (and logged) without
# a traceback.
USER_ERRORS = (CheckpointError, DatasetConfigError, ImageDecodeError,
               TrainingConfigError, FloatingPointError)

# Signals that stop training in order (see install_signal_handlers).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If specify checkpoint path, resume from it, while if not '
        'specify, try to auto resume from the latest checkpoint '
        'in the work directory.')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='Whether not to evaluate the checkpoint during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='whether to auto scale the learning rate according to the '
        'actual batch size and the original batch size.')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='whether to disable the pin_memory option in dataloaders.')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='whether to disable the persistent_workers option in '
        'dataloaders.')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


class TrainingInterrupted(BaseException):
    """Raised in the main process when SIGTERM or SIGINT arrives.

    A ``BaseException`` like ``KeyboardInterrupt``, so that code which
    catches ``Exception`` on the way up does not swallow it.
    """


def user_message(exc: BaseException) -> str:
    """The message of a user-facing error; for one re-raised from a
    data-loader worker (``Caught X in DataLoader worker process N.``
    followed by the worker's traceback) the worker's own message."""
    msg = str(exc)
    if msg.startswith('Caught ') and 'Original Traceback' in msg:
        where = msg.splitlines()[0][len('Caught '):].rstrip('.')
        name = f'{type(exc).__name__}: '
        lines = [ln for ln in msg.splitlines() if name in ln]
        if lines:
            inner = lines[-1].split(name, 1)[1]
            return f'{inner} (raised in {where.split(" in ", 1)[-1]})'
    return msg


def preflight(cfg: Config, args) -> None:
    """Refuse a missing/empty dataset and an unusable --resume checkpoint
    before the runner spends minutes building the model and the data."""
    if args.resume not in (None, 'auto') and not osp.isfile(args.resume):
        sys.exit(f'tools/train.py: --resume {args.resume!r}: no such '
                 'checkpoint file. Pass a .pth written by this config, or '
                 '--resume without a path to resume from the latest '
                 f'checkpoint in {cfg.work_dir}')
    try:
        dataloader = cfg.get('train_dataloader') or {}
        check_dataset_cfg(dataloader.get('dataset'),
                          'train_dataloader.dataset')
        if cfg.get('resume'):
            path = cfg.get('load_from') or find_latest_checkpoint(
                cfg.work_dir)
            if path and '://' not in path:
                expect_bank = 'memory_bank' in (cfg.get('model') or {})
                check_resume_checkpoint(path, expect_memory_bank=expect_bank)
    except (CheckpointError, DatasetConfigError) as exc:
        what = '--resume' if isinstance(exc, CheckpointError) else 'dataset'
        sys.exit(f'tools/train.py: {what}: {exc}')


def install_signal_handlers() -> dict:
    """Turn SIGTERM (schedulers, ``kill``) and SIGINT (Ctrl-C) into an
    orderly stop that says where the last checkpoint is, instead of a
    ``KeyboardInterrupt`` traceback; a second signal kills at once.
    Checkpoints are written atomically, so the last one is complete.
    (Data-loader workers get Ctrl-C's SIGINT too and exit quietly.)

    Returns:
        dict: signal -> previous handler, to restore (empty outside the
        main thread).
    """

    main_pid = os.getpid()

    def handler(signum, frame):
        signal.signal(signum, signal.SIG_DFL)
        if os.getpid() != main_pid:
            # a forked data-loader worker inherits this handler: behave as
            # without it (PyTorch's worker loop exits quietly on
            # KeyboardInterrupt; SIGTERM ends the worker)
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            os.kill(os.getpid(), signum)
            return
        raise TrainingInterrupted(signal.Signals(signum).name)

    previous = {}
    for sig in STOP_SIGNALS:
        try:
            previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread: keep the default
            break
    return previous


def interrupted_message(runner, args, signame: str, work_dir: str) -> str:
    """What a stopped run says: where it stopped, the last checkpoint and
    the command that continues it. ``runner`` is None when the signal came
    before the runner was built."""
    work_dir = runner.work_dir if runner is not None else work_dir
    last = find_latest_checkpoint(work_dir) if osp.isdir(work_dir) else None
    where = (f'the last checkpoint is {last} (written completely before the '
             'signal)' if last else 'no checkpoint was written yet')
    at = (f'at iteration {runner.iter} (epoch {runner.epoch + 1})'
          if runner is not None else 'before training started')
    return (f'tools/train.py: stopped by {signame} {at}; {where}. Continue '
            f'with: python tools/train.py {args.config} --work-dir '
            f'{work_dir} --resume (plus the same --cfg-options)')


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'tools/train.py: config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    preflight(cfg, args)
    previous = install_signal_handlers()
    runner = None
    try:
        runner = Runner.from_cfg(cfg)
        try:
            # Builds the training loop (MMEngine reuses it in train()) and
            # refuses a dataset smaller than one batch before MMEngine's
            # schedulers fail on it with `epoch_length must be a positive
            # integer`. The plugin's hooks run the same check for MMPretrain's
            # own tools/train.py, but only after the schedulers are built.
            check_train_epoch_length(runner)
        except DatasetConfigError as exc:
            msg = f'tools/train.py: dataset: {exc}'
            runner.logger.error(msg)
            sys.exit(msg)
        runner.train()
        shutdown_distributed()
    except TrainingInterrupted as exc:
        msg = interrupted_message(runner, args, str(exc), cfg.work_dir)
        if runner is not None:
            runner.logger.warning(msg)
        print(msg, file=sys.stderr)
        sys.exit(128 + signal.Signals[str(exc)].value)
    except USER_ERRORS as exc:
        msg = f'tools/train.py: error: {user_message(exc)}'
        if runner is not None:
            runner.logger.error(msg)
        sys.exit(msg)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == '__main__':
    main()
