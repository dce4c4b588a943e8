"""Permutation sets of jigsaw cells, generated reproducibly."""
import math
from itertools import permutations as _all_permutations
from typing import Optional

import numpy as np


def generate_permutations(num: int,
                          num_cells: int = 9,
                          method: str = 'random',
                          seed: int = 0,
                          pool: Optional[int] = None) -> np.ndarray:
    """Generate ``num`` distinct permutations of ``range(num_cells)``.

    Args:
        num (int): number of permutations |T|, at most ``num_cells!``.
        num_cells (int): cells in the grid. Defaults to 9.
        method (str): ``'random'`` draws distinct permutations uniformly;
            ``'hamming'`` picks them greedily to maximise the minimal Hamming
            distance to the permutations already chosen (Noroozi & Favaro's
            maximal-distance set, used by the Jigsaw pretext task).
        seed (int): the seed; the same arguments give the same set.
        pool (int, optional): for ``'hamming'`` with large ``num_cells``,
            the number of random candidates considered instead of all
            ``num_cells!`` permutations. Defaults to all when ``num_cells``
            <= 9, else 100000.

    Returns:
        np.ndarray: ``(num, num_cells)`` int64 array; row ``t`` lists, for each
        slot, the cell whose patch goes there.
    """
    total = math.factorial(num_cells)
    if not 1 <= num <= total:
        raise ValueError(f'the number of permutations must be in [1, '
                         f'{total}] for {num_cells} cells, got {num}')
    rng = np.random.default_rng(seed)
    if method == 'random':
        if num_cells <= 9 and num > total // 4:
            cand = np.array(list(_all_permutations(range(num_cells))))
            return cand[np.sort(rng.choice(total, num, replace=False))]
        seen, out = set(), []
        while len(out) < num:
            p = tuple(rng.permutation(num_cells).tolist())
            if p not in seen:
                seen.add(p)
                out.append(p)
        return np.array(out, dtype=np.int64)
    if method != 'hamming':
        raise ValueError(
            f"method must be 'random' or 'hamming', got {method!r}")
    if num_cells <= 9 and pool is None:
        cand = np.array(list(_all_permutations(range(num_cells))),
                        dtype=np.int8)
    else:
        cand = np.array([rng.permutation(num_cells)
                         for _ in range(pool or 100000)], dtype=np.int8)
        cand = np.unique(cand, axis=0)
        if num > len(cand):
            raise ValueError(f'pool of {len(cand)} candidates is smaller '
                             f'than num={num}')
    chosen = [int(rng.integers(len(cand)))]
    min_dist = (cand != cand[chosen[0]]).sum(1).astype(np.int16)
    for _ in range(num - 1):
        best = np.flatnonzero(min_dist == min_dist.max())
        j = int(best[rng.integers(len(best))])
        chosen.append(j)
        np.minimum(min_dist, (cand != cand[j]).sum(1), out=min_dist)
    return cand[chosen].astype(np.int64)


def min_hamming_distance(perms: np.ndarray) -> int:
    """The minimal Hamming distance between two rows of ``perms``."""
    perms = np.asarray(perms)
    if len(perms) < 2:
        return 0
    d = (perms[:, None, :] != perms[None, :, :]).sum(-1)
    np.fill_diagonal(d, perms.shape[1] + 1)
    return int(d.min())
