"""The memory bank's reproducible random numbers: the counter-based
negative-sampling generator (a hash of ``(seed, step, key, j)``, numpy on
the CPU, torch elsewhere) and the seeded random initial rows."""
import numpy as np
import torch
import torch.nn.functional as F

# splitmix64 constants as signed int64 (torch has no uint64 arithmetic).
_GOLDEN = 0x9E3779B97F4A7C15 - (1 << 64)
_MIX1 = 0xBF58476D1CE4E5B9 - (1 << 64)
_MIX2 = 0x94D049BB133111EB - (1 << 64)


def _shr(x: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's ``>>`` is arithmetic)."""
    return (x >> k) & ((1 << (64 - k)) - 1)


def _mix64(x: torch.Tensor) -> torch.Tensor:
    """splitmix64's finaliser, on int64 with wrap-around multiplication."""
    x = (x ^ _shr(x, 30)) * _MIX1
    x = (x ^ _shr(x, 27)) * _MIX2
    return x ^ _shr(x, 31)


def counter_randint(high: int, seed: int, step: int, keys: torch.Tensor,
                    num: int) -> torch.Tensor:
    """``num`` pseudo-random integers in ``[0, high)`` for each key.

    A counter-based generator: the draw is a hash of ``(seed, step, key,
    j)``, so it does not depend on which rank holds a sample, on the number
    of ranks or on any RNG state; it is reproduced exactly after a resume
    (``step`` is checkpointed). The modulo bias is below ``high / 2**63``.

    On the CPU the hash runs in numpy's uint64 arithmetic, on other devices
    in torch's int64 with wrap-around multiplication; both give the same
    bits. Why: docs/design.md, "Memory bank: the negative-sampling
    generator".

    Args:
        high (int): exclusive upper bound, >= 1.
        seed (int): the run's seed.
        step (int): the update step.
        keys (Tensor): ``(B,)`` int64 keys (the samples' dataset indices).
        num (int): draws per key.

    Returns:
        Tensor: ``(B, num)`` int64 on ``keys.device``.
    """
    if keys.device.type == 'cpu':
        return _counter_randint_numpy(high, seed, step, keys, num)
    return _counter_randint_torch(high, seed, step, keys, num)


def _counter_randint_torch(high: int, seed: int, step: int, keys: torch.Tensor,
                           num: int) -> torch.Tensor:
    device = keys.device
    base = _mix64(
        torch.tensor([seed * 1000003 + step], dtype=torch.int64, device=device)
        * _GOLDEN)
    per_key = _mix64(base ^ (keys.view(-1, 1).long() * _GOLDEN + 1))
    j = torch.arange(num, dtype=torch.int64, device=device).view(1, -1)
    out = _mix64(per_key + j * _GOLDEN)
    return _shr(out, 1) % high


_U64 = np.uint64


def _mix64_numpy(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 (wraps, logical shifts)."""
    x = (x ^ (x >> _U64(30))) * _U64(_MIX1 % (1 << 64))
    x = (x ^ (x >> _U64(27))) * _U64(_MIX2 % (1 << 64))
    return x ^ (x >> _U64(31))


def _counter_randint_numpy(high: int, seed: int, step: int, keys: torch.Tensor,
                           num: int) -> torch.Tensor:
    golden = _U64(_GOLDEN % (1 << 64))
    with np.errstate(over='ignore'):
        base = _mix64_numpy(
            np.array([(seed * 1000003 + step) % (1 << 64)], dtype=np.uint64) *
            golden)
        k = keys.detach().reshape(-1, 1).long().numpy().view(np.uint64)
        per_key = _mix64_numpy(base ^ (k * golden + _U64(1)))
        j = np.arange(num, dtype=np.uint64).reshape(1, -1)
        out = _mix64_numpy(per_key + j * golden)
        out = (out >> _U64(1)) % _U64(high)
    return torch.from_numpy(out.view(np.int64))


_INIT_CHUNK = 1 << 16

INIT_DISTRIBUTIONS = ('normal', 'uniform')


def random_unit_rows(start: int,
                     stop: int,
                     feat_dim: int,
                     seed: int,
                     dtype: torch.dtype,
                     device: torch.device,
                     distribution: str = 'normal') -> torch.Tensor:
    """Rows ``[start, stop)`` of a seeded bank of random unit vectors.

    Each block of ``_INIT_CHUNK`` rows has its own seeded generator, so
    any range (a rank's shard) is generated without the rest and equals
    the same rows of the full bank.

    Args:
        start (int): first row.
        stop (int): end row (exclusive).
        feat_dim (int): ``D``, the row size.
        seed (int): the bank's ``init_seed``.
        dtype (torch.dtype): storage type of the result.
        device (torch.device): device of the result.
        distribution (str): what is normalised: ``'normal'`` (default)
            standard Gaussian rows (uniform on the sphere) or
            ``'uniform'`` rows uniform in ``[-1, 1]^D`` (VISSL's
            ``NCEAverage`` memory, uniform in ``[-s, s]`` then normalised;
            the scale cancels).

    Returns:
        Tensor: ``(stop - start, D)``, L2-normalised rows.
    """
    if distribution not in INIT_DISTRIBUTIONS:
        raise ValueError(f'bank init distribution must be one of '
                         f'{INIT_DISTRIBUTIONS}, got {distribution!r}')
    out = torch.empty(stop - start, feat_dim, dtype=dtype, device=device)
    c = _INIT_CHUNK
    for block in range(start // c, (stop + c - 1) // c if stop > start else 0):
        gen = torch.Generator().manual_seed(seed * 1000003 + block)
        if distribution == 'normal':
            rows = torch.randn(c, feat_dim, generator=gen)
        else:
            rows = torch.rand(c, feat_dim, generator=gen) * 2 - 1
        rows = F.normalize(rows, dim=1)
        lo, hi = max(block * c, start), min((block + 1) * c, stop)
        out[lo - start:hi - start] = rows[lo - block * c:hi - block * c].to(
            device, dtype)
    return out
