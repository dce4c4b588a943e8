"""A memory bank's write version and its loading from a checkpoint."""
from typing import Tuple

import torch


class BankWritesMixin:
    """Writes of a :class:`MemoryBank` beside its update: the write version
    that the scorers' backward checks, and checkpoint loading (an empty bank
    is sized from the checkpoint's, a bank of another size is refused, and
    loading counts as a write: it drops a staged update and bumps the
    version).

    The host class sets ``_version = 0`` and provides ``bank``, ``dtype``,
    ``num_samples`` and ``_pending``. A subclass holding part of the rows
    overrides :meth:`_load_bank_rows`.
    """

    @property
    def version(self) -> int:
        """The bank's write version, bumped by every write (commit, reset,
        checkpoint load). Not state: it is not saved."""
        return self._version

    def _mark_written(self) -> None:
        self._version += 1

    def check_unchanged_since(self, version: int) -> None:
        """Raise if the bank was written after it was at ``version``.

        Called by the backward of the negative scorer, which gathers the
        negatives from the bank again (see :class:`GatherScores`).

        Args:
            version (int): :attr:`version` when the forward pass read the
                bank.
        """
        if self._version != version:
            raise RuntimeError(
                'The memory bank was written (update committed, bank reset '
                'or checkpoint loaded) between the forward pass that scored '
                'its negatives and this backward pass, so the gradients '
                'would be computed against the new rows instead of those the '
                'loss used. Commit the staged update only after backward and '
                'the optimiser step, which BankUpdateHook does in '
                "after_train_iter: add `custom_hooks = [dict(type='"
                "BankUpdateHook')]` to the config, and do not call "
                '`memory_bank.commit()` between the loss and its backward.')

    def _shape_mismatch(self, key: str, src_shape: Tuple[int, ...],
                        shape: Tuple[int, ...]) -> ValueError:
        """The error for a checkpoint bank of another shape than this run's
        (``shape``, the whole bank)."""
        return ValueError(
            f'The checkpoint\'s memory bank ({key}) has shape '
            f'{tuple(src_shape)} but this run\'s bank has shape '
            f'{tuple(shape)}: the checkpoint was trained on a dataset of '
            f'{src_shape[0]} images and the current training dataset has '
            f'{shape[0]}. Resume only on the dataset the checkpoint was '
            'trained on, or start a new run (use `load_from` with a '
            'backbone-only checkpoint to reuse the weights).')

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        key = prefix + 'bank'
        if key in state_dict:
            state_dict = dict(state_dict)
            state_dict[key] = self._load_bank_rows(key, state_dict[key])
        self._pending = None
        self._mark_written()
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def _load_bank_rows(self, key: str, src: torch.Tensor) -> torch.Tensor:
        """The rows of the checkpoint's bank ``src`` that this process
        holds, after sizing an empty bank from it or checking its shape.

        Args:
            key (str): the bank's key in the state dict (for the error).
            src (Tensor): the checkpoint's whole bank, ``(M, D)``.

        Returns:
            Tensor: the rows to load into :attr:`bank`.
        """
        if self.num_samples == 0:
            # Not sized yet (no hook ran): take the checkpoint's size.
            self.bank = torch.empty_like(
                src, dtype=self.dtype, device=self.bank.device)
        elif src.shape != self.bank.shape:
            raise self._shape_mismatch(key, tuple(src.shape),
                                       tuple(self.bank.shape))
        return src.to(self.dtype)
