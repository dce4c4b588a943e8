"""Weighted k-nearest-neighbour evaluation of frozen features (NPID style)."""
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pirl_plugin.utils.progress import Progress


@torch.no_grad()
def extract_features(backbone: nn.Module,
                     imgs: np.ndarray,
                     mean: Sequence[float] = (123.675, 116.28, 103.53),
                     std: Sequence[float] = (58.395, 57.12, 57.375),
                     to_rgb: bool = True,
                     batch_size: int = 128,
                     device: str = 'cpu',
                     desc: str = 'extracting features') -> torch.Tensor:
    """Global-average-pooled, L2-normalised last-stage backbone features.

    Shows a progress bar in images on a terminal (see
    :mod:`pirl_plugin.utils.progress`; ``PIRL_PROGRESS=0`` or ``CI`` turn it
    off).

    Args:
        backbone (nn.Module): an MMPretrain backbone (returns a tuple).
        imgs (np.ndarray): uint8 ``(N, H, W, 3)`` images, BGR if ``to_rgb``.
        mean, std (sequence): normalisation, in RGB order.
        to_rgb (bool): convert BGR input to RGB. Defaults to True.
        batch_size (int): images per forward. Defaults to 128.
        device (str): Defaults to 'cpu'.
        desc (str): label of the progress bar.

    Returns:
        Tensor: ``(N, C)`` float32 features on the CPU.
    """
    was_training = backbone.training
    # mmpretrain's ResNet.train() returns None, so the calls cannot chain.
    backbone.eval()
    backbone.to(device)
    mean_t = torch.tensor(mean, device=device).view(1, 3, 1, 1)
    std_t = torch.tensor(std, device=device).view(1, 3, 1, 1)
    feats = []
    with Progress(len(imgs), f'{desc} ({len(imgs)} images)') as bar:
        for s in range(0, len(imgs), batch_size):
            x = torch.from_numpy(imgs[s:s + batch_size]).to(device)
            x = x.permute(0, 3, 1, 2).float()
            if to_rgb:
                x = x.flip(1)
            out = backbone((x - mean_t) / std_t)
            out = out[-1] if isinstance(out, (tuple, list)) else out
            if out.dim() == 4:
                out = out.mean(dim=(2, 3))
            feats.append(F.normalize(out.float(), dim=1).cpu())
            bar.update(x.size(0))
    backbone.train(was_training)
    return torch.cat(feats)


@torch.no_grad()
def weighted_knn_predict(train_feats: torch.Tensor,
                         train_labels: torch.Tensor,
                         test_feats: torch.Tensor,
                         k: int = 20,
                         temperature: float = 0.07,
                         num_classes: Optional[int] = None,
                         chunk: int = 1024) -> torch.Tensor:
    """Weighted kNN of NPID: each of the ``k`` nearest training features
    (cosine similarity ``s``) votes for its class with weight
    ``exp(s / temperature)``.

    Args:
        train_feats (Tensor): ``(N, C)`` L2-normalised.
        train_labels (Tensor): ``(N,)`` int labels.
        test_feats (Tensor): ``(M, C)`` L2-normalised.
        k (int): neighbours. Defaults to 20.
        temperature (float): vote temperature. Defaults to 0.07.
        num_classes (int, optional): defaults to ``max(label) + 1``.
        chunk (int): test features per similarity block.

    Returns:
        Tensor: ``(M,)`` predicted labels.
    """
    if k < 1:
        raise ValueError(f'k must be >= 1, got {k}')
    k = min(k, train_feats.size(0))
    num_classes = num_classes or int(train_labels.max()) + 1
    preds = []
    for s in range(0, test_feats.size(0), chunk):
        sim = test_feats[s:s + chunk] @ train_feats.T
        top_sim, top_idx = sim.topk(k, dim=1)
        votes = sim.new_zeros(sim.size(0), num_classes)
        votes.scatter_add_(1, train_labels.to(sim.device)[top_idx],
                           (top_sim / temperature).exp())
        preds.append(votes.argmax(1))
    return torch.cat(preds)


def knn_accuracy(train_feats: torch.Tensor, train_labels: torch.Tensor,
                 test_feats: torch.Tensor, test_labels: torch.Tensor,
                 k: int = 20, temperature: float = 0.07) -> float:
    """Top-1 accuracy (%) of :func:`weighted_knn_predict`."""
    pred = weighted_knn_predict(train_feats, train_labels, test_feats, k,
                                temperature,
                                int(max(train_labels.max(), test_labels.max())) + 1)
    return float((pred == test_labels).float().mean() * 100)
