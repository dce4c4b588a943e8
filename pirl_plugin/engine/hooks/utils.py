"""Helpers shared by the hooks."""
from typing import Optional, Tuple

from mmengine.hooks import CheckpointHook
from mmpretrain.utils import get_ori_model
from torch import nn


def checkpoint_hook(runner) -> Optional[CheckpointHook]:
    """The runner's CheckpointHook, if any."""
    return next((h for h in runner.hooks if isinstance(h, CheckpointHook)),
                None)


def checkpoint_due(runner, by_epoch: bool) -> bool:
    """Whether CheckpointHook writes a checkpoint at the end of the current
    training iteration (``by_epoch=False``) or epoch (``by_epoch=True``).

    Mirrors CheckpointHook's own condition, so hooks of higher priority can
    prepare state (a collective gather) on every rank before rank 0 saves.
    """
    ckpt = checkpoint_hook(runner)
    if ckpt is None or ckpt.by_epoch != by_epoch:
        return False
    if by_epoch:
        return bool(
            ckpt.every_n_epochs(runner, ckpt.interval, ckpt.save_begin)
            or (ckpt.save_last and ckpt.is_last_train_epoch(runner)))
    return bool(
        ckpt.every_n_train_iters(runner, ckpt.interval, ckpt.save_begin)
        or (ckpt.save_last and ckpt.is_last_train_iter(runner)))


def is_resuming(runner) -> bool:
    """Whether the run resumes (``resume=True`` in the runner's config, as
    ``--resume`` sets it)."""
    cfg = getattr(runner, 'cfg', None) or {}
    return bool(cfg.get('resume', False))


def train_dataset_len(runner) -> Optional[int]:
    """Length of the training dataset; None without a training loop."""
    try:
        return len(runner.train_dataloader.dataset)
    except Exception:  # no training dataloader (test / val only)
        return None


def get_memory_bank(runner,
                    required: bool = True,
                    hook: str = 'BankUpdateHook') -> Tuple[nn.Module, object]:
    """The runner's model (unwrapped) and its memory bank.

    Args:
        runner (Runner): the runner.
        required (bool): raise if the model has no ``memory_bank``;
            otherwise return None for the bank.
        hook (str): the hook that needs the bank, for the message.

    Returns:
        tuple: ``(model, bank)``.
    """
    model = get_ori_model(runner.model)
    bank = getattr(model, 'memory_bank', None)
    if bank is None and required:
        raise TypeError(
            f'{hook} needs a model with a `memory_bank` (PIRL), but the '
            f'model is {type(model).__name__}; remove {hook} from '
            'custom_hooks')
    return model, bank
