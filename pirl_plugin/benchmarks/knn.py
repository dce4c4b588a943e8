"""Weighted kNN accuracy of frozen features for several k at once."""
from typing import Dict, Sequence

import torch

from pirl_plugin.evaluation.knn import knn_accuracy


def knn_accuracies(train_feats: torch.Tensor,
                   train_labels: torch.Tensor,
                   test_feats: torch.Tensor,
                   test_labels: torch.Tensor,
                   ks: Sequence[int] = (20, ),
                   temperature: float = 0.07) -> Dict[int, float]:
    """Top-1 (%) of the NPID weighted kNN
    (:func:`pirl_plugin.evaluation.knn_accuracy`) for every ``k``.

    Args:
        train_feats (Tensor): ``(N, D)`` L2-normalised memory features.
        train_labels (Tensor): ``(N,)`` labels.
        test_feats (Tensor): ``(M, D)`` L2-normalised query features.
        test_labels (Tensor): ``(M,)`` labels.
        ks (sequence[int]): numbers of neighbours.
        temperature (float): vote temperature. Defaults to 0.07.

    Returns:
        dict[int, float]: k -> top-1 accuracy in %.
    """
    if train_feats.shape[1] != test_feats.shape[1]:
        raise ValueError(
            f'train and test features differ in dimension '
            f'({train_feats.shape[1]} vs {test_feats.shape[1]})')
    args = [t.detach().float().cpu() for t in (train_feats, test_feats)]
    train_labels = train_labels.detach().long().cpu()
    test_labels = test_labels.detach().long().cpu()
    return {
        int(k): knn_accuracy(args[0], train_labels, args[1], test_labels,
                             int(k), temperature)
        for k in ks
    }
