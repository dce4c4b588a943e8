"""Save and restore the random number generators' states with checkpoints."""
import random
from typing import List, Optional

import numpy as np
import torch
from mmengine import dist
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from .utils import checkpoint_due, is_resuming


def _capture() -> dict:
    state = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state()
    return state


def _restore(state: dict) -> None:
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state['cuda'])


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make ``--resume`` continue the random streams where they stopped.

    MMEngine's resume re-seeds the generators from the config's seed, so the
    augmentations (drawn from numpy's global state when ``num_workers=0``,
    and from torch's) after a resume differ from those of an uninterrupted
    run. This hook stores the Python, numpy, torch (and CUDA) states of
    every rank in each checkpoint (``checkpoint['rng_states']``, one entry
    per rank) and restores them when training starts after a resume. A
    checkpoint loaded with ``load_from`` (not a resume) is left alone.
    Data-loader workers re-seed themselves from the seed, rank and epoch;
    their streams are reproduced by the seed alone.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._states: Optional[List[dict]] = None
        self._to_restore: Optional[dict] = None

    def _snapshot(self) -> None:
        # Collective: every rank's state, taken where CheckpointHook (lower
        # priority, same event) may write a checkpoint right after.
        if dist.get_world_size() > 1:
            self._states = dist.all_gather_object(_capture())
        else:
            self._states = [_capture()]

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if checkpoint_due(runner, by_epoch=False):
            self._snapshot()

    def after_train_epoch(self, runner) -> None:
        if checkpoint_due(runner, by_epoch=True):
            self._snapshot()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._states is not None:
            checkpoint['rng_states'] = self._states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        states = checkpoint.get('rng_states')
        if not is_resuming(runner) or not states:
            return
        rank = dist.get_rank()
        if len(states) != dist.get_world_size():
            runner.logger.warning(
                f'RNGStateHook: the checkpoint holds RNG states of '
                f'{len(states)} ranks but this run has '
                f'{dist.get_world_size()}; random streams are re-seeded '
                'instead of restored.')
            return
        self._to_restore = states[rank]

    def before_train(self, runner) -> None:
        if self._to_restore is not None:
            _restore(self._to_restore)
            self._to_restore = None
