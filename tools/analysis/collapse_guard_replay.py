"""Replay CollapseGuardHook's collapse guard on the logs of finished runs.

    python tools/analysis/collapse_guard_replay.py \
        work_dirs/run_a work_dirs/run_b \
        [--threshold 0.7] [--window 8] [--min-drop 0.1] [--warmup 2] \
        [--stats-interval 50] [--iters-per-refresh N]

For each run (a work directory, searched for MMEngine's ``*.log``, or a log
file), reads the ``bank_pairwise_sim`` readings the hook logged and feeds
them, in order, to :meth:`CollapseGuardHook.check_collapse` (the guard itself,
not a copy of its rule) with the settings given, then prints one line per
run: the readings, and whether and where the guard warns. Use it to choose
guard settings for your own runs, or to see what the guard made of a run
trained before it changed (``docs/small_data.md`` replays the digits grid
with it).

A reading is taken every ``--stats-interval`` iterations (the hook's
``stats_interval``, 50 by default) and the logger repeats the latest one,
so the reading shown at iteration ``i`` was taken at the last multiple of
the interval. Its bank refreshes (rows written / bank size) are that
iteration divided by the iterations of one epoch (read from the
``Epoch(train) [e][i/N]`` log lines: one epoch writes every row once, less
the images ``drop_last`` leaves out); iteration-based runs need
``--iters-per-refresh`` (dataset size / total batch size).
"""
import argparse
import glob
import itertools
import os.path as osp
import re
import sys
from typing import List, Optional, Tuple

from pirl_plugin.engine.hooks import CollapseGuardHook

_EPOCH = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\]')
_ITER = re.compile(r'Iter\(train\)\s*\[\s*(\d+)/\s*\d+\]')
_SIM = re.compile(r'bank_pairwise_sim: (-?[0-9.]+)')


def read_readings(
        log_text: str,
        stats_interval: int = 50,
        iters_per_refresh: Optional[float] = None
) -> List[Tuple[float, float]]:
    """The distinct ``bank_pairwise_sim`` readings of an MMEngine log.

    The hook takes a reading every ``stats_interval`` iterations and the
    logger repeats the latest one at every logging step, so consecutive
    equal values are one reading, taken at the last multiple of
    ``stats_interval`` before the first line that shows it.

    Args:
        log_text (str): the text of the run's ``*.log``.
        stats_interval (int): the hook's ``stats_interval``.
        iters_per_refresh (float, optional): iterations per bank refresh;
            by default one epoch's iterations, read from the log.

    Returns:
        list[tuple[float, float]]: (bank refreshes, similarity) per reading.
    """
    readings = []
    for line in log_text.splitlines():
        sim = _SIM.search(line)
        if sim is None:
            continue
        epoch = _EPOCH.search(line)
        if epoch is not None:
            e, i, n = (int(g) for g in epoch.groups())
            it, per = (e - 1) * n + i, iters_per_refresh or n
        else:
            it_match = _ITER.search(line)
            if it_match is None or iters_per_refresh is None:
                raise ValueError(
                    'an iteration-based log: pass --iters-per-refresh '
                    '(dataset size / total batch size)')
            it, per = int(it_match.group(1)), iters_per_refresh
        taken = it // stats_interval * stats_interval
        readings.append((taken / per, float(sim.group(1))))
    return [
        next(group)
        for _, group in itertools.groupby(readings, key=lambda r: r[1])
    ]


class _Collect:
    """A logger stand-in that keeps the guard's warnings."""

    def __init__(self) -> None:
        self.warnings: List[str] = []

    def warning(self, msg: str) -> None:
        self.warnings.append(msg)


def replay(readings: List[Tuple[float, float]],
           **guard_cfg) -> Optional[float]:
    """Feed the readings to a fresh guard.

    Args:
        readings (list): (bank refreshes, similarity) as
            :func:`read_readings` returns them.
        **guard_cfg: ``CollapseGuardHook`` collapse settings.

    Returns:
        float | None: the refreshes at the first warning, None if silent.
    """
    hook, log = CollapseGuardHook(**guard_cfg), _Collect()
    for refreshes, sim in readings:
        if hook.check_collapse(log, sim, refreshes):
            return refreshes
    return None


def find_log(path: str) -> str:
    if osp.isfile(path):
        return path
    logs = sorted(glob.glob(osp.join(path, '**', '*.log'), recursive=True))
    if not logs:
        raise FileNotFoundError(
            f'{path}: no MMEngine *.log below it; pass a training work '
            'directory or its log file')
    return logs[-1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        'runs', nargs='+', help='work directories or log files')
    parser.add_argument('--threshold', type=float, default=0.7)
    parser.add_argument(
        '--window',
        type=float,
        default=10.0,
        help='collapse_window, in bank refreshes')
    parser.add_argument('--min-drop', type=float, default=0.1)
    parser.add_argument('--warmup', type=float, default=2.0)
    parser.add_argument(
        '--stats-interval',
        type=int,
        default=50,
        help="CollapseGuardHook's stats_interval in the run")
    parser.add_argument('--iters-per-refresh', type=float, default=None)
    args = parser.parse_args(argv)
    cfg = dict(
        collapse_threshold=args.threshold,
        collapse_window=args.window,
        collapse_min_drop=args.min_drop,
        collapse_warmup=args.warmup)
    status = 0
    for run in args.runs:
        try:
            log = find_log(run)
            with open(log) as f:
                readings = read_readings(f.read(), args.stats_interval,
                                         args.iters_per_refresh)
        except (OSError, ValueError) as exc:
            print(f'collapse_guard_replay.py: {run}: {exc}', file=sys.stderr)
            status = 1
            continue
        if not readings:
            print(f'{run}: no bank_pairwise_sim readings in {log}')
            continue
        at = replay(readings, **cfg)
        curve = ' '.join(f'{s:.2f}' for _, s in readings)
        verdict = (f'WARNS at {at:.1f} refreshes'
                   if at is not None else 'silent')
        print(f'{run}: {verdict}; readings: {curve}')
    return status


if __name__ == '__main__':
    sys.exit(main())
