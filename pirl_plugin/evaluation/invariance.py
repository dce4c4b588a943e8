"""How invariant a representation is to a pretext transformation.

For an image I and its transformed version t(I), the distance
``|| r(I) / ||r(I)|| - r(t(I)) / ||r(t(I))|| ||_2`` (in [0, 2]; 0 means
invariant). Two representations are offered:

- ``'backbone'`` (any model with a backbone): r is the globally
  average-pooled last backbone stage; t(I) is an image of the same size, I
  cut into a ``grid x grid`` grid of tiles shuffled by a random permutation
  (``'jigsaw'``) or I rotated by 90, 180 or 270 degrees (``'rotation'``).
  Comparable across PIRL, the pretext baselines and a random
  initialisation.
- ``'heads'`` (PIRL models): the paper's definition, r(I) = f(v_I) (head f
  on the image) and r(I^t) = g(v_It) (head g on the transformed view as in
  training: the shuffled jigsaw patches, or the rotated image).
"""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pirl_plugin.utils.progress import track
from .invariance_views import (center_patches, draw_permutations,
                               draw_rotations, rotate, shuffle_tiles)

TRANSFORMS = ('jigsaw', 'rotation')
REPRESENTATIONS = ('backbone', 'heads')


def check_choice(value: str, choices: Sequence[str], name: str) -> str:
    """Refuse a value outside ``choices`` naming the setting."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {tuple(choices)}, got '
                         f'{value!r}')
    return value


def pooled_embedding(backbone: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """L2-normalised, globally average-pooled last stage of ``backbone``."""
    feats = backbone(x)
    feat = feats[-1] if isinstance(feats, (tuple, list)) else feats
    if feat.dim() == 4:
        feat = feat.mean(dim=(2, 3))
    return F.normalize(feat.flatten(1).float(), dim=1)


@torch.no_grad()
def backbone_distances(backbone: nn.Module,
                       images: torch.Tensor,
                       transform: str = 'jigsaw',
                       grid: int = 3,
                       seed: int = 0,
                       batch_size: int = 64) -> torch.Tensor:
    """Distances between pooled backbone features of I and t(I).

    Args:
        backbone (nn.Module): returns a feature map (or a tuple of them).
        images (Tensor): normalised ``(N, C, H, W)`` float images; for
            ``'jigsaw'`` H and W must be divisible by ``grid``, for
            ``'rotation'`` H == W.
        transform (str): ``'jigsaw'`` or ``'rotation'``.
        grid (int): tiles per side for ``'jigsaw'``. Defaults to 3.
        seed (int): seed of the permutations / angles (the same for every
            model, so they see the same t(I)). Defaults to 0.
        batch_size (int): images per forward pass. Defaults to 64.

    Returns:
        Tensor: ``(N,)`` distances in [0, 2].
    """
    check_choice(transform, TRANSFORMS, 'transform')
    if grid < 1:
        raise ValueError(f'grid must be >= 1, got {grid}')
    n = images.size(0)
    if transform == 'jigsaw':
        params = draw_permutations(n, grid * grid, seed)
    else:
        if images.size(-1) != images.size(-2):
            raise ValueError('rotation needs square images, got '
                             f'{tuple(images.shape[-2:])}')
        params = draw_rotations(n, seed)
    was_training = backbone.training
    backbone.eval()
    out = []
    for s in track(
            range(0, n, batch_size), None,
            f'backbone distances, {transform} ({n} images)'):
        x = images[s:s + batch_size]
        p = params[s:s + batch_size]
        xt = shuffle_tiles(x, p, grid) if transform == 'jigsaw' else rotate(
            x, p)
        out.append((pooled_embedding(backbone, x) -
                    pooled_embedding(backbone, xt)).norm(dim=1))
    backbone.train(was_training)
    return torch.cat(out)


def _transform_neck(model: nn.Module, transform: str) -> nn.Module:
    """Head g of ``model`` for ``transform``, or a ValueError."""
    necks = getattr(model, 'transform_necks', None)
    if necks is not None:  # PIRLMultiTransform
        if transform not in necks:
            raise ValueError(f"the model has no head g for {transform!r} "
                             f'(it has {list(necks.keys())})')
        return necks[transform]
    neck = getattr(model, 'transform_neck', None)
    if neck is None or getattr(model, 'neck', None) is None:
        raise ValueError(
            f"representation 'heads' needs a PIRL model (heads f and g); "
            f'{type(model).__name__} has none: use the backbone '
            'representation')
    is_jigsaw = hasattr(neck, 'num_patches')
    if is_jigsaw != (transform == 'jigsaw'):
        raise ValueError(f"the model's head g ({type(neck).__name__}) is not "
                         f'for the {transform!r} transformation')
    return neck


@torch.no_grad()
def head_distances(model: nn.Module,
                   image_views: torch.Tensor,
                   transform_views: torch.Tensor,
                   transform: str = 'jigsaw',
                   grid: int = 3,
                   patch: Optional[int] = None,
                   seed: int = 0,
                   batch_size: int = 64) -> torch.Tensor:
    """Distances between f(v_I) and g(v_It) of a PIRL model (the paper).

    Args:
        model (nn.Module): :class:`PIRL` or :class:`PIRLMultiTransform`.
        image_views (Tensor): normalised ``(N, C, s, s)`` image views I.
        transform_views (Tensor): normalised ``(N, C, S, S)`` images from
            which t(I) is made: for ``'jigsaw'`` the jigsaw crop (S
            divisible by ``grid``), cut into centred ``patch`` patches
            shuffled by a random permutation; for ``'rotation'`` rotated
            by 90, 180 or 270 degrees.
        transform (str): ``'jigsaw'`` or ``'rotation'``.
        grid (int): cells per side. Defaults to 3.
        patch (int, optional): patch size; defaults to the cell size.
        seed (int): seed of the permutations / angles. Defaults to 0.
        batch_size (int): images per forward pass. Defaults to 64.

    Returns:
        Tensor: ``(N,)`` distances in [0, 2].
    """
    check_choice(transform, TRANSFORMS, 'transform')
    neck_g = _transform_neck(model, transform)
    n = image_views.size(0)
    params = (
        draw_permutations(n, grid * grid, seed)
        if transform == 'jigsaw' else draw_rotations(n, seed))
    was_training = model.training
    model.eval()
    out = []
    for s in track(
            range(0, n, batch_size), None,
            f'head distances, {transform} ({n} images)'):
        x = image_views[s:s + batch_size]
        xt = transform_views[s:s + batch_size]
        p = params[s:s + batch_size]
        f = model.neck(model.backbone(x))[0]
        if transform == 'jigsaw':
            cells = center_patches(xt, grid, patch or xt.size(-1) // grid)
            idx = torch.as_tensor(p, dtype=torch.long)
            views = cells[torch.arange(len(p))[:, None], idx].flatten(0, 1)
        else:
            views = rotate(xt, p)
        g = neck_g(model.backbone(views))[0]
        out.append((F.normalize(f.float(), dim=1) -
                    F.normalize(g.float(), dim=1)).norm(dim=1))
    model.train(was_training)
    return torch.cat(out)


def summarize(dist: torch.Tensor) -> Dict[str, float]:
    """Summary statistics of a vector of distances."""
    d = dist.double().cpu()
    q = torch.quantile(
        d, torch.tensor([0.05, 0.25, 0.5, 0.75, 0.95], dtype=torch.float64))
    return dict(
        num_images=int(d.numel()),
        mean=float(d.mean()),
        std=float(d.std()) if d.numel() > 1 else 0.0,
        min=float(d.min()),
        p05=float(q[0]),
        p25=float(q[1]),
        median=float(q[2]),
        p75=float(q[3]),
        p95=float(q[4]),
        max=float(d.max()))


def plot_histograms(distances: Dict[str, torch.Tensor],
                    out: str,
                    title: str = '',
                    bins: int = 40,
                    xlabel: Optional[str] = None) -> None:
    """Overlaid histograms of several models' distances, saved to ``out``.

    Args:
        distances (dict[str, Tensor]): label -> ``(N,)`` distances.
        out (str): PNG path.
        title (str): figure title.
        bins (int): histogram bins over [0, max]. Defaults to 40.
        xlabel (str, optional): x-axis label.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    hi = max(float(d.max()) for d in distances.values())
    edges = np.linspace(0.0, max(hi * 1.05, 1e-3), bins + 1)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, d in distances.items():
        d = d.cpu().numpy()
        ax.hist(
            d,
            bins=edges,
            alpha=0.55,
            density=True,
            label=f'{label} (mean {d.mean():.3f}, median '
            f'{np.median(d):.3f})')
    ax.set_xlabel(xlabel or 'l2 distance between unit-norm representations '
                  'of I and t(I)')
    ax.set_ylabel('density')
    if title:
        ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
