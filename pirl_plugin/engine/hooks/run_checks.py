"""Checks of a training run that need the built runner.

They run from the plugin's hooks (:class:`MemoryBankHook` in every PIRL
config, :class:`RNGStateHook` in every training config of the plugin, the
baselines included) and, for the batch check, from the plugin's runner
(:class:`pirl_plugin.engine.PIRLRunner`, which prints
:class:`TrainingConfigError` as one line without a traceback), so
MMPretrain's stock ``tools/train.py``, ``mim train`` and our
``tools/train.py`` stop with the same messages. Each check runs once per
runner, whichever calls it first.
"""
import math
import weakref
from typing import Iterator, List, Optional, Tuple

from mmengine import dist
from mmengine.optim.scheduler.param_scheduler import \
    CosineAnnealingParamScheduler

from pirl_plugin.datasets.checks import check_epoch_length


class TrainingConfigError(ValueError):
    """A training config that cannot do what it says (a schedule shorter
    than the run, more negatives than images, a bank of the wrong size).
    The message says what to change; tools print it without a traceback."""


_done: 'weakref.WeakKeyDictionary' = weakref.WeakKeyDictionary()


def _once(runner, name: str) -> bool:
    """True the first time ``name`` is asked for this runner."""
    try:
        done = _done.setdefault(runner, set())
    except TypeError:  # not weak-referenceable: check every time
        return True
    if name in done:
        return False
    done.add(name)
    return True


def check_train_epoch_length(runner) -> None:
    """Refuse a training dataset smaller than one batch (zero iterations
    per epoch); see :func:`pirl_plugin.datasets.checks.check_epoch_length`.

    Called in ``before_run``. For schedules with ``convert_to_iter_based``
    MMEngine builds them (and fails) before ``before_run``;
    :meth:`pirl_plugin.engine.PIRLRunner.train` therefore calls this check
    before MMEngine's ``train`` builds the schedulers.
    """
    if not _once(runner, 'epoch_length'):
        return
    try:
        loader = runner.train_dataloader
    except Exception:  # no training loop (test / val only)
        return
    if loader is not None:
        check_epoch_length(loader, 'train_dataloader', dist.get_world_size())


def _lr_schedulers(runner) -> Iterator[Tuple[Optional[int], object]]:
    """(index in the config's ``param_scheduler`` list or None, scheduler)
    for every learning-rate scheduler of the runner."""
    scheds = getattr(runner, 'param_schedulers', None)
    if isinstance(scheds, dict):  # one list per optimiser
        for group in scheds.values():
            for s in group:
                yield None, s
    elif isinstance(scheds, (list, tuple)):
        for i, s in enumerate(scheds):
            yield i, s


def check_schedule_covers_training(runner) -> None:
    """Refuse a learning-rate schedule that ends before training does.

    ``--cfg-options train_cfg.max_epochs=40`` on a config whose cosine
    schedule was written for 20 epochs leaves ``end`` and ``T_max`` at 20:
    MMEngine then trains the last 20 epochs at the final learning rate
    (or, with ``T_max`` shorter than ``end``, with a rising one).

    We refuse the mismatch instead of stretching the schedule, because in
    MMEngine/MMPretrain a schedule's ``begin``/``end``/``T_max`` are explicit
    config values that users change together with ``max_epochs``: a hook
    that rewrote them would make the config saved in the work dir disagree
    with the run, would be wrong for a schedule that deliberately ends
    early, and could not apply to ``--resume`` anyway (MMEngine restores
    each scheduler's ``end``/``T_max`` from the checkpoint). The message
    names the options to add. A schedule that runs past the end of
    training (a short try with ``max_epochs=1``, or a run to be extended by
    ``--resume``) is only logged as a warning.

    A resumed run is warned, not refused: MMEngine restores each
    scheduler's ``end``/``T_max`` from the checkpoint whatever the config
    says, so extending a finished run with ``--resume`` and a larger
    ``max_epochs`` can only train the extra epochs at the final learning
    rate. Refusing would forbid extending runs at all; the warning says
    what happens and how to get a longer schedule instead.

    Called in ``before_train``, after a resume has restored the schedulers.

    Raises:
        TrainingConfigError: naming the scheduler and the options to set.
    """
    if not _once(runner, 'schedule'):
        return
    loop = getattr(runner, 'train_loop', None)
    max_epochs = getattr(loop, 'max_epochs', None)
    max_iters = getattr(loop, 'max_iters', None)
    if not max_iters:
        return
    epoch_len = max_iters / max_epochs if max_epochs else None
    by_epoch_loop = max_epochs is not None
    unit, total_name = (('epoch', f'train_cfg.max_epochs={max_epochs}')
                        if by_epoch_loop else
                        ('iteration', f'train_cfg.max_iters={max_iters}'))
    total = max_epochs if by_epoch_loop else max_iters

    def to_unit(value: float, by_epoch: bool) -> float:
        """A scheduler position in the loop's unit (epochs or iterations)."""
        if by_epoch or not by_epoch_loop:
            return value
        return value / epoch_len

    ends: List[Tuple[float, Optional[int], object]] = []
    resumed = bool(getattr(runner, '_resume', False))
    note = (' (with --resume the schedule is the checkpoint\'s: MMEngine '
            'restores end and T_max from it, so the options cannot change '
            'it; for a longer schedule start a new run with the full '
            'max_epochs, or from the checkpoint\'s weights with load_from)'
            if resumed else '')

    def refuse(msg: str) -> None:
        if not resumed:
            raise TrainingConfigError(msg)
        runner.logger.warning(f'{msg}. Going on: the resumed run trains as '
                              'the checkpoint\'s schedule says.')

    for idx, s in _lr_schedulers(runner):
        if getattr(s, 'param_name', 'lr') != 'lr':
            continue
        if s.by_epoch and not by_epoch_loop:
            continue  # an epoch-based scheduler in an iteration loop
        begin = to_unit(s.begin, s.by_epoch)
        end = min(to_unit(s.end, s.by_epoch), total) if math.isfinite(
            s.end) else total
        name = (f'param_scheduler.{idx}'
                if idx is not None else 'param_scheduler')
        if isinstance(s, CosineAnnealingParamScheduler) and begin < end:
            t_max = to_unit(s.T_max, s.by_epoch)
            if t_max < end - begin - 1e-9:
                refuse(f'{name} ({type(s).__name__}) has T_max={t_max:g} '
                       f'{unit}s but runs from {unit} {begin:g} to {end:g}: '
                       f'after {unit} {begin + t_max:g} the learning rate '
                       f'would rise again. Set {name}.T_max={end - begin:g} '
                       f'(with {total_name}){note}')
                return
        ends.append((end, idx, s))
    if not ends:
        return
    last, idx, s = max(ends, key=lambda e: e[0])
    if last < total - 1e-9:
        name = (f'param_scheduler.{idx}'
                if idx is not None else 'param_scheduler')
        fix = f'--cfg-options {total_name} {name}.end={total:g}'
        if isinstance(s, CosineAnnealingParamScheduler):
            begin = to_unit(s.begin, s.by_epoch)
            fix += f' {name}.T_max={total - begin:g}'
        refuse(f'the learning-rate schedule ends at {unit} {last:g} ({name}, '
               f'{type(s).__name__}, end={last:g}) but training runs for '
               f'{total:g} {unit}s ({total_name}): the last {total - last:g} '
               f'{unit}s would train at the final learning rate. Stretch the '
               f'schedule with the run, e.g. {fix} (or add a scheduler that '
               f'covers {unit}s {last:g}-{total:g} if that is intended){note}')
        return
    # a schedule longer than the run: allowed, but say so
    finite = [
        to_unit(s.end, s.by_epoch) for _, _, s in ends if math.isfinite(s.end)
    ]
    longest = max(finite, default=0)
    if longest > total + 1e-9:
        runner.logger.warning(
            f'The learning-rate schedule runs to {unit} {longest:g} but '
            f'training stops after {total:g} ({total_name}), before the '
            'learning rate reaches its final value. Fine for a short try; '
            'for a full run set the schedule\'s end (and T_max) to the '
            'number of epochs too.')
