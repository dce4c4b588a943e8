"""Checks of a training run that need the built runner.

:class:`~.PreflightChecksHook` runs them; :class:`pirl_plugin.engine.
PIRLRunner` also runs :func:`check_train_epoch_length` before MMEngine
builds the schedulers. Each raises :class:`TrainingConfigError` (or
:class:`~pirl_plugin.datasets.checks.DatasetConfigError`) with a one-line
message that says what to change; ``docs/troubleshooting.md`` explains the
choices behind them.
"""
import math
from typing import Iterator, List, NamedTuple, Optional, Tuple

from mmengine import dist
from mmengine.optim.scheduler.param_scheduler import \
    CosineAnnealingParamScheduler

from pirl_plugin.datasets.checks import check_epoch_length
from pirl_plugin.utils.config_errors import ConfigValueError
from .utils import get_memory_bank, is_resuming, train_dataset_len


class TrainingConfigError(ConfigValueError):
    """A training config that cannot do what it says (a schedule shorter
    than the run, more negatives than images, a bank of the wrong size).
    The message says what to change; tools print it without a traceback."""


def check_train_epoch_length(runner) -> None:
    """Refuse a training dataset smaller than one batch (zero iterations
    per epoch); see :func:`pirl_plugin.datasets.checks.check_epoch_length`.

    Args:
        runner (Runner): the runner; without a training loop nothing is
            checked.
    """
    try:
        loader = runner.train_dataloader
    except Exception:  # no training loop (test / val only)
        return
    if loader is not None:
        check_epoch_length(loader, 'train_dataloader', dist.get_world_size())


def check_bank_fits_dataset(runner) -> None:
    """Refuse a memory bank sized for another dataset, and more negatives
    than the bank can provide. Models without a bank pass.

    Args:
        runner (Runner): the runner, before training starts.

    Raises:
        TrainingConfigError: naming the setting to change.
    """
    n = train_dataset_len(runner)
    model, bank = get_memory_bank(runner, required=False)
    if n is None or bank is None:
        return
    if bank.num_samples not in (0, n):
        raise TrainingConfigError(
            f'The memory bank has {bank.num_samples} entries but the '
            f'training dataset has {n} images; the bank needs one entry '
            'per image. Remove `memory_bank.num_samples` from the config '
            '(BankUpdateHook then sizes the bank from the dataset).')
    num_neg = getattr(getattr(model, 'head', None), 'num_negatives', None)
    if num_neg is not None and num_neg >= n:
        raise TrainingConfigError(
            f'head.num_negatives={num_neg} must be smaller than the '
            f'number of training images ({n}): negatives are drawn from '
            f'the other images\' bank entries. Use at most {n - 1}.')


def check_checkpoint_bank(runner, checkpoint: dict) -> None:
    """Refuse, before any weight is loaded, a checkpoint whose memory bank
    was written for a dataset of another length, and a resumed checkpoint
    without a bank (training would go on with a random one). Models
    without a bank pass.

    Args:
        runner (Runner): the runner loading ``checkpoint``.
        checkpoint (dict): the loaded checkpoint.

    Raises:
        TrainingConfigError: naming what to do instead.
    """
    if get_memory_bank(runner, required=False)[1] is None:
        return
    state = checkpoint.get('state_dict', checkpoint)
    key = next((k for k in state if k.endswith('memory_bank.bank')), None)
    if key is None:
        if is_resuming(runner):
            raise TrainingConfigError(
                'The checkpoint being resumed has no memory bank '
                '(no `memory_bank.bank` in its state_dict), so training '
                'would go on with a random bank. Resume from a checkpoint '
                'written by PIRL training with BankUpdateHook, or use '
                '`load_from` (not --resume) to start a new run from its '
                'weights.')
        return
    n = train_dataset_len(runner)
    if n is not None and state[key].shape[0] != n:
        raise TrainingConfigError(
            f'The checkpoint\'s memory bank has {state[key].shape[0]} '
            f'entries but the training dataset has {n} images: the '
            'dataset changed since the checkpoint was written. Resume '
            'on the original dataset, or start a new run (the checkpoint '
            'is left untouched).')


class _Span(NamedTuple):
    """A learning-rate scheduler's span in the training loop's unit."""
    begin: float
    end: float
    name: str
    scheduler: object


class _Loop(NamedTuple):
    """What the schedule check needs of the training loop."""
    unit: str  # 'epoch' or 'iteration'
    total: float  # epochs or iterations of the run
    total_name: str  # the option that sets ``total``
    epoch_len: Optional[float]  # iterations per epoch (epoch loops)

    def to_unit(self, value: float, by_epoch: bool) -> float:
        """A scheduler position in the loop's unit."""
        if by_epoch or self.unit == 'iteration':
            return value
        return value / self.epoch_len


def _training_loop(runner) -> Optional[_Loop]:
    loop = getattr(runner, 'train_loop', None)
    max_epochs = getattr(loop, 'max_epochs', None)
    max_iters = getattr(loop, 'max_iters', None)
    if not max_iters:
        return None
    if max_epochs is not None:
        return _Loop('epoch', max_epochs, f'train_cfg.max_epochs={max_epochs}',
                     max_iters / max_epochs if max_epochs else None)
    return _Loop('iteration', max_iters, f'train_cfg.max_iters={max_iters}',
                 None)


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


def _lr_spans(runner, loop: _Loop) -> List[_Span]:
    spans = []
    for idx, s in _lr_schedulers(runner):
        if getattr(s, 'param_name', 'lr') != 'lr':
            continue
        if s.by_epoch and loop.unit == 'iteration':
            continue  # an epoch-based scheduler in an iteration loop
        end = (
            min(loop.to_unit(s.end, s.by_epoch), loop.total)
            if math.isfinite(s.end) else loop.total)
        name = (f'param_scheduler.{idx}'
                if idx is not None else 'param_scheduler')
        spans.append(_Span(loop.to_unit(s.begin, s.by_epoch), end, name, s))
    return spans


def _rising_cosine(span: _Span, loop: _Loop) -> Optional[str]:
    """The message for a cosine whose T_max is shorter than its span."""
    s, unit = span.scheduler, loop.unit
    if not (isinstance(s, CosineAnnealingParamScheduler)
            and span.begin < span.end):
        return None
    t_max = loop.to_unit(s.T_max, s.by_epoch)
    if t_max >= span.end - span.begin - 1e-9:
        return None
    return (f'{span.name} ({type(s).__name__}) has T_max={t_max:g} '
            f'{unit}s but runs from {unit} {span.begin:g} to {span.end:g}: '
            f'after {unit} {span.begin + t_max:g} the learning rate would '
            f'rise again. Set {span.name}.T_max={span.end - span.begin:g} '
            f'(with {loop.total_name})')


def _short_schedule(spans: List[_Span], loop: _Loop) -> Optional[str]:
    """The message for a schedule that ends before training does."""
    last = max(spans, key=lambda sp: sp.end)
    total, unit, s = loop.total, loop.unit, last.scheduler
    if last.end >= total - 1e-9:
        return None
    fix = f'--cfg-options {loop.total_name} {last.name}.end={total:g}'
    if isinstance(s, CosineAnnealingParamScheduler):
        fix += f' {last.name}.T_max={total - last.begin:g}'
    return (f'the learning-rate schedule ends at {unit} {last.end:g} '
            f'({last.name}, {type(s).__name__}, end={last.end:g}) but '
            f'training runs for {total:g} {unit}s ({loop.total_name}): the '
            f'last {total - last.end:g} {unit}s would train at the final '
            f'learning rate. Stretch the schedule with the run, e.g. {fix} '
            f'(or add a scheduler that covers {unit}s {last.end:g}-'
            f'{total:g} if that is intended)')


def check_schedule_covers_training(runner) -> None:
    """Refuse a learning-rate schedule that ends before training does, or
    a cosine schedule whose ``T_max`` is shorter than its span; warn about
    a schedule that runs past the end of training.

    A resumed run is warned instead of refused (MMEngine restores the
    schedule from the checkpoint). Call it after a resume has restored the
    schedulers (``before_train``).

    Args:
        runner (Runner): the runner.

    Raises:
        TrainingConfigError: naming the scheduler and the options to set.
    """
    loop = _training_loop(runner)
    if loop is None:
        return
    spans = _lr_spans(runner, loop)
    if not spans:
        return
    msg = next(filter(None, (_rising_cosine(sp, loop) for sp in spans)),
               None) or _short_schedule(spans, loop)
    if msg is not None:
        _refuse(runner, msg)
        return
    finite = [
        loop.to_unit(sp.scheduler.end, sp.scheduler.by_epoch) for sp in spans
        if math.isfinite(sp.scheduler.end)
    ]
    longest = max(finite, default=0)
    if longest > loop.total + 1e-9:
        runner.logger.warning(
            f'The learning-rate schedule runs to {loop.unit} {longest:g} but '
            f'training stops after {loop.total:g} ({loop.total_name}), '
            'before the learning rate reaches its final value. Fine for a '
            'short try; for a full run set the schedule\'s end (and T_max) '
            'to the number of epochs too.')


def _refuse(runner, msg: str) -> None:
    """Raise ``msg``; for a resumed run log it as a warning instead."""
    if not is_resuming(runner):
        raise TrainingConfigError(msg)
    note = (' (with --resume the schedule is the checkpoint\'s: MMEngine '
            'restores end and T_max from it, so the options cannot change '
            'it; for a longer schedule start a new run with the full '
            'max_epochs, or from the checkpoint\'s weights with load_from)')
    runner.logger.warning(f'{msg}{note}. Going on: the resumed run trains '
                          'as the checkpoint\'s schedule says.')
