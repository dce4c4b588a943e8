"""Weighted k-nearest-neighbour evaluation of frozen features (NPID style):
the one kNN of the kNN monitor, the kNN tool and the demo."""
from typing import Dict, Iterable, Optional, Sequence

import numpy as np
import torch
from torch import nn

from .features import extract_dataloader_features


@torch.no_grad()
def extract_features(backbone: nn.Module,
                     imgs: np.ndarray,
                     mean: Sequence[float] = (123.675, 116.28, 103.53),
                     std: Sequence[float] = (58.395, 57.12, 57.375),
                     to_rgb: bool = True,
                     batch_size: int = 128,
                     device: str = 'cpu',
                     desc: str = 'extracting features') -> torch.Tensor:
    """:func:`~pirl_plugin.evaluation.features.extract_dataloader_features`
    of images held in an array (global-average-pooled, L2-normalised last
    backbone output).

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
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    preprocessor = MODELS.build(
        dict(
            type='mmpretrain.ClsDataPreprocessor',
            mean=list(mean),
            std=list(std),
            to_rgb=to_rgb))
    backbone.to(device)
    chw = torch.from_numpy(np.ascontiguousarray(imgs)).permute(0, 3, 1, 2)
    batches = [
        dict(
            inputs=list(chw[s:s + batch_size]),
            data_samples=[
                DataSample(metainfo=dict(sample_idx=i))
                for i in range(s, min(s + batch_size, len(imgs)))
            ]) for s in range(0, len(imgs), batch_size)
    ]
    res = extract_dataloader_features(
        backbone, preprocessor, batches, layers=('res5', ), desc=desc)
    return res['feats']['res5']


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
        votes.scatter_add_(1,
                           train_labels.to(sim.device)[top_idx],
                           (top_sim / temperature).exp())
        preds.append(votes.argmax(1))
    return torch.cat(preds)


def knn_accuracy(train_feats: torch.Tensor,
                 train_labels: torch.Tensor,
                 test_feats: torch.Tensor,
                 test_labels: torch.Tensor,
                 k: int = 20,
                 temperature: float = 0.07) -> float:
    """Top-1 accuracy (%) of :func:`weighted_knn_predict`."""
    pred = weighted_knn_predict(
        train_feats, train_labels, test_feats, k, temperature,
        int(max(train_labels.max(), test_labels.max())) + 1)
    return float((pred == test_labels).float().mean() * 100)


def knn_accuracies(train_feats: torch.Tensor,
                   train_labels: torch.Tensor,
                   test_feats: torch.Tensor,
                   test_labels: torch.Tensor,
                   ks: Sequence[int] = (20, ),
                   temperature: float = 0.07) -> Dict[int, float]:
    """:func:`knn_accuracy` for every ``k`` of ``ks``.

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
        raise ValueError(f'train and test features differ in dimension '
                         f'({train_feats.shape[1]} vs {test_feats.shape[1]})')
    args = [t.detach().float().cpu() for t in (train_feats, test_feats)]
    train_labels = train_labels.detach().long().cpu()
    test_labels = test_labels.detach().long().cpu()
    return {
        int(k): knn_accuracy(args[0], train_labels, args[1], test_labels,
                             int(k), temperature)
        for k in ks
    }


def knn_evaluate(backbone: nn.Module,
                 data_preprocessor: nn.Module,
                 train_loader: Iterable[dict],
                 val_loader: Iterable[dict],
                 ks: Sequence[int] = (20, ),
                 temperature: float = 0.07,
                 layer: str = 'res5',
                 gather: bool = False) -> dict:
    """The kNN evaluation of a frozen backbone, as the kNN monitor, the kNN
    tool and the demo compute it: global-average-pooled, L2-normalised
    ``layer`` features (:func:`extract_dataloader_features`) of the labelled
    ``train_loader`` (the memory) and ``val_loader`` (the queries), then
    :func:`knn_accuracies`.

    Args:
        backbone (nn.Module): the backbone (see
            :func:`extract_dataloader_features`).
        data_preprocessor (nn.Module): single-view preprocessor.
        train_loader, val_loader (iterable): batches of ``PackInputs``
            outputs of single-label datasets.
        ks (sequence[int]): numbers of neighbours. Defaults to (20,).
        temperature (float): vote temperature. Defaults to 0.07.
        layer (str): the layer. Defaults to 'res5'.
        gather (bool): all-gather distributed shards. Defaults to False.

    Returns:
        dict: ``accs`` (``{k: top-1 %}``), ``train`` and ``val`` (the
        results of :func:`extract_dataloader_features`).
    """
    results = []
    for name, loader in (('train', train_loader), ('val', val_loader)):
        res = extract_dataloader_features(
            backbone,
            data_preprocessor,
            loader,
            layers=(layer, ),
            pool='avg',
            normalize=True,
            gather=gather,
            desc=f'kNN: {name} features')
        if res['labels'] is None:
            raise ValueError(
                f'kNN {name} set: the dataset must give one label per image '
                '(a labelled single-label dataset, e.g. ImageNet or '
                'CustomDataset with class folders)')
        results.append(res)
    train, val = results
    accs = knn_accuracies(train['feats'][layer], train['labels'],
                          val['feats'][layer], val['labels'], ks, temperature)
    return dict(accs=accs, train=train, val=val)
