"""VISSL's negative sampling for the memory bank (the exact-VISSL mode).

The default sampling of :meth:`MemoryBank.sample_negatives` follows the
paper: ``N`` negatives per data point, uniform over the other ``M - 1``
entries (never the positive), one draw shared by the loss terms. VISSL's
``NCEAverage`` (``vissl/losses/nce_loss.py``) draws differently, and
:func:`sample_negatives_vissl` reproduces its rule:

- with replacement, uniform over all ``M`` entries (``AliasMethod`` over
  ``torch.ones(M)``), so a data point's own entry can be drawn as a
  negative, and it is then scored as one;
- a fresh draw at every call of ``NCEAverage.forward``, i.e. one draw per
  loss term (PIRL's two terms are scored against different negatives).

The draw is counter-based like the default one (see
:func:`~pirl_plugin.models.memories.counter_random.counter_randint`), so it is
reproduced exactly after a resume and does not depend on the number of
ranks; the random stream is not VISSL's, only its distribution.
"""
import torch

from .counter_random import counter_randint


def sample_negatives_vissl(memory_bank, idx: torch.Tensor, num_negatives: int,
                           term: int, num_terms: int) -> torch.Tensor:
    """Draw one loss term's negatives as VISSL does.

    Args:
        memory_bank (MemoryBank): the bank; its ``sampling_seed`` and
            ``num_updates`` (the checkpointed step) seed the draw.
        idx (Tensor): the batch's dataset indices, ``(B,)``.
        num_negatives (int): ``N``, negatives per data point (any value
            >= 1: the draw is with replacement).
        term (int): the loss term the draw is for, in ``[0, num_terms)``;
            every term gets an independent draw.
        num_terms (int): the number of loss terms.

    Returns:
        Tensor: ``(B, N)`` int64 indices in ``[0, M)``, drawn uniformly with
        replacement; a row may contain the data point's own index.
    """
    if not 0 <= term < num_terms:
        raise ValueError(f'term must be in [0, {num_terms}), got {term}')
    memory_bank.check_ready()
    idx = idx.to(memory_bank.bank.device).long()
    # One key per (data point, term): the terms' draws are independent.
    keys = idx * num_terms + term
    return counter_randint(memory_bank.num_samples, memory_bank.sampling_seed,
                           int(memory_bank.num_updates), keys, num_negatives)
