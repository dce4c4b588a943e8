"""Helpers shared by the hooks."""
from typing import Optional

from mmengine.hooks import CheckpointHook


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
