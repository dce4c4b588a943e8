"""The transformed images t(I) of the invariance analysis
(:mod:`pirl_plugin.evaluation.invariance`): seeded random permutations and
rotations, tiles shuffled, images rotated, centred patches cut."""
from typing import Sequence

import numpy as np
import torch


def draw_permutations(num: int, cells: int = 9, seed: int = 0) -> np.ndarray:
    """``num`` random permutations of ``cells``, none the identity."""
    rng = np.random.default_rng(seed)
    out = np.empty((num, cells), dtype=np.int64)
    ident = np.arange(cells)
    for i in range(num):
        p = rng.permutation(cells)
        while cells > 1 and np.array_equal(p, ident):
            p = rng.permutation(cells)
        out[i] = p
    return out


def draw_rotations(num: int, seed: int = 0) -> np.ndarray:
    """``num`` angles drawn from 90, 180, 270."""
    return np.random.default_rng(seed).choice([90, 180, 270], size=num)


def shuffle_tiles(x: torch.Tensor,
                  perms: np.ndarray,
                  grid: int = 3) -> torch.Tensor:
    """Shuffle the ``grid x grid`` tiles of each image.

    Args:
        x (Tensor): ``(N, C, H, W)``, H and W divisible by ``grid``.
        perms (np.ndarray): ``(N, grid**2)``; slot k of image n gets the
            tile of cell ``perms[n, k]`` (cells row-major), as in
            :class:`PIRLJigsawTransform`.
        grid (int): tiles per side.

    Returns:
        Tensor: the shuffled images, same shape.
    """
    n, c, h, w = x.shape
    if h % grid or w % grid:
        raise ValueError(f'image size {h}x{w} is not divisible by grid '
                         f'{grid}')
    th, tw = h // grid, w // grid
    tiles = x.reshape(n, c, grid, th, grid, tw).permute(0, 2, 4, 1, 3, 5)
    tiles = tiles.reshape(n, grid * grid, c, th, tw)
    idx = torch.as_tensor(perms, device=x.device, dtype=torch.long)
    tiles = tiles[torch.arange(n, device=x.device)[:, None], idx]
    tiles = tiles.reshape(n, grid, grid, c, th, tw).permute(0, 3, 1, 4, 2, 5)
    return tiles.reshape(n, c, h, w)


def rotate(x: torch.Tensor, angles: Sequence[int]) -> torch.Tensor:
    """Rotate image n counter-clockwise by ``angles[n]`` degrees."""
    return torch.stack([
        torch.rot90(img, k=int(a) // 90, dims=(1, 2))
        for img, a in zip(x, angles)
    ])


def center_patches(x: torch.Tensor, grid: int, patch: int) -> torch.Tensor:
    """The centred ``patch x patch`` crop of every cell of a grid.

    Args:
        x (Tensor): ``(N, C, S, S)`` with S divisible by ``grid``.

    Returns:
        Tensor: ``(N, grid**2, C, patch, patch)``, cells row-major.
    """
    n, c, h, w = x.shape
    cell = h // grid
    if h % grid or w != h or patch > cell:
        raise ValueError(f'cannot cut {patch}-pixel patches from a {grid}x'
                         f'{grid} grid of a {h}x{w} image')
    off = (cell - patch) // 2
    out = [
        x[:, :, r * cell + off:r * cell + off + patch,
          q * cell + off:q * cell + off + patch] for r in range(grid)
        for q in range(grid)
    ]
    return torch.stack(out, dim=1)
