"""Stop a training run in order on SIGTERM/SIGINT, and say how to go on."""
import contextlib
import os
import os.path as osp
import shlex
import signal
import sys
from typing import Iterator, List, Optional, Sequence

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
