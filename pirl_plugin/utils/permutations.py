"""Permutation sets of jigsaw cells, generated reproducibly."""
import functools
import math
import os
from itertools import permutations as _all_permutations
from typing import Optional, Sequence, Union

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
        return _random_permutations(num, num_cells, rng)
    if method != 'hamming':
        raise ValueError(
            f"method must be 'random' or 'hamming', got {method!r}")
    cand = _hamming_candidates(num, num_cells, pool, rng)
    return _max_hamming_subset(cand, num, rng)


def _random_permutations(num: int, num_cells: int,
                         rng: np.random.Generator) -> np.ndarray:
    """``num`` distinct permutations drawn uniformly.

    Args:
        num (int): number of permutations.
        num_cells (int): cells in the grid.
        rng (np.random.Generator): the generator, consumed.

    Returns:
        np.ndarray: ``(num, num_cells)`` int64 array.
    """
    total = math.factorial(num_cells)
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


def _hamming_candidates(num: int, num_cells: int, pool: Optional[int],
                        rng: np.random.Generator) -> np.ndarray:
    """The candidates of the maximal-Hamming-distance selection.

    Args:
        num (int): number of permutations to select later.
        num_cells (int): cells in the grid.
        pool (int, optional): see :func:`generate_permutations`.
        rng (np.random.Generator): the generator, consumed when sampling.

    Returns:
        np.ndarray: ``(P, num_cells)`` int8 array of distinct permutations.
    """
    if num_cells <= 9 and pool is None:
        return np.array(
            list(_all_permutations(range(num_cells))), dtype=np.int8)
    cand = np.array(
        [rng.permutation(num_cells) for _ in range(pool or 100000)],
        dtype=np.int8)
    cand = np.unique(cand, axis=0)
    if num > len(cand):
        raise ValueError(f'pool of {len(cand)} candidates is smaller '
                         f'than num={num}')
    return cand


def _max_hamming_subset(cand: np.ndarray, num: int,
                        rng: np.random.Generator) -> np.ndarray:
    """Greedily pick ``num`` rows of ``cand`` maximising the minimal Hamming
    distance to the rows already picked (ties broken at random).

    Args:
        cand (np.ndarray): ``(P, num_cells)`` candidate permutations.
        num (int): number of rows to pick.
        rng (np.random.Generator): the generator, consumed.

    Returns:
        np.ndarray: ``(num, num_cells)`` int64 array.
    """
    num_cells = cand.shape[1]
    # Hamming distance to a candidate c = num_cells - #{slots s: x[s] == c[s]};
    # ``matches[s, v]`` marks the candidates holding cell v in slot s, so a
    # distance row costs num_cells additions instead of a full comparison.
    matches = np.stack([
        np.stack([cand[:, s] == v for v in range(num_cells)])
        for s in range(num_cells)
    ]).astype(np.int8)  # slot, value, candidate

    def distances(j: int) -> np.ndarray:
        same = np.zeros(len(cand), dtype=np.int16)
        for s, v in enumerate(cand[j].tolist()):
            same += matches[s, v]
        return num_cells - same

    chosen = [int(rng.integers(len(cand)))]
    min_dist = distances(chosen[0])
    for _ in range(num - 1):
        best = np.flatnonzero(min_dist == min_dist.max())
        j = int(best[rng.integers(len(best))])
        chosen.append(j)
        np.minimum(min_dist, distances(j), out=min_dist)
    return cand[chosen].astype(np.int64)


def min_hamming_distance(perms: np.ndarray) -> int:
    """The minimal Hamming distance between two rows of ``perms``."""
    perms = np.asarray(perms)
    if len(perms) < 2:
        return 0
    d = (perms[:, None, :] != perms[None, :, :]).sum(-1)
    np.fill_diagonal(d, perms.shape[1] + 1)
    return int(d.min())


@functools.lru_cache(maxsize=16)
def _cached_permutations(num: int, num_cells: int, method: str,
                         seed: int) -> np.ndarray:
    perms = generate_permutations(num, num_cells, method, seed)
    perms.setflags(write=False)
    return perms


def resolve_permutations(spec: Union[int, str, Sequence],
                         num_cells: int = 9,
                         method: str = 'hamming',
                         seed: int = 0) -> np.ndarray:
    """A fixed permutation set from an int, a file or an explicit array.

    Args:
        spec (int | str | array): |T| (generated with ``method`` and
            ``seed``, cached per process, so building several pipelines does
            not regenerate it), the path of a ``.npy`` file written by
            ``tools/make_permutations.py``, or a ``(T, num_cells)`` array.
        num_cells (int): cells per image. Defaults to 9.
        method (str): ``'hamming'`` (default) or ``'random'`` for an int.
        seed (int): seed for an int. Defaults to 0.

    Returns:
        np.ndarray: ``(T, num_cells)`` int64, each row a permutation.
    """
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        return np.array(
            _cached_permutations(int(spec), num_cells, method, seed))
    if isinstance(spec, str):
        if not os.path.isfile(spec):
            raise ValueError(
                f'permutations file {spec!r} not found; write it with '
                'tools/make_permutations.py or pass the number |T| instead')
        spec = np.load(spec)
    perms = np.asarray(spec, dtype=np.int64)
    if perms.ndim != 2 or perms.shape[1] != num_cells or any(
            sorted(p) != list(range(num_cells)) for p in perms.tolist()):
        raise ValueError(
            f'permutations must be an array of shape (T, {num_cells}) whose '
            f'rows are permutations of 0..{num_cells - 1}, got shape '
            f'{perms.shape}')
    if len(np.unique(perms, axis=0)) != len(perms):
        raise ValueError('permutations must be distinct (a repeated row '
                         'makes two classes indistinguishable)')
    return perms


@functools.lru_cache(maxsize=4)
def cached_permutations(num: int,
                        num_cells: int = 9,
                        method: str = 'random',
                        seed: int = 0) -> np.ndarray:
    """:func:`generate_permutations`, computed once per process for the
    same arguments (a 10,000-permutation maximal-Hamming set takes seconds,
    and the runner builds a transform twice: checked alone, then in the
    dataset). Copy the result before changing it.

    Args:
        num, num_cells, method, seed: as in :func:`generate_permutations`.

    Returns:
        np.ndarray: ``(num, num_cells)`` int64 array (shared: read only).
    """
    return generate_permutations(num, num_cells, method, seed)
