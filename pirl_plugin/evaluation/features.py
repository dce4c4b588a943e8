"""Frozen-feature extraction: the one extractor of the kNN monitor, the kNN
tool, the demo, the VOC07 SVM and the probes.

The layer names follow the paper (and Goyal et al., ICCV 2019): ``conv1`` is
the ResNet stem, ``res2`` ... ``res5`` are the four residual stages.
"""
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine import dist
from torch import nn

from pirl_plugin.utils.progress import track

LAYER_NAMES = ('conv1', 'res2', 'res3', 'res4', 'res5')

#: Output grid (side) of the adaptive average pooling per layer, chosen so
#: that every ResNet-50 layer gives about 9k dimensions, as in the benchmark
#: of Goyal et al.: conv1 64x12x12 = 9216, res2 256x6x6 = 9216,
#: res3 512x4x4 = 8192, res4 1024x3x3 = 9216, res5 2048x2x2 = 8192.
DEFAULT_POOL_SIZES = dict(conv1=12, res2=6, res3=4, res4=3, res5=2)

PoolSpec = Union[str, int]


def check_layers(layers: Sequence[str]) -> List[str]:
    """Validate layer names against :data:`LAYER_NAMES`."""
    layers = list(layers)
    unknown = [name for name in layers if name not in LAYER_NAMES]
    if unknown or not layers:
        raise ValueError(f'unknown layer(s) {unknown or layers}: choose from '
                         f'{list(LAYER_NAMES)}')
    return layers


def pool_feature(feat: torch.Tensor, pool: PoolSpec = 'avg') -> torch.Tensor:
    """Pool a ``(N, C, H, W)`` feature map into ``(N, D)`` vectors.

    Args:
        feat (Tensor): the feature map (a ``(N, C)`` input is returned as
            is).
        pool (str | int): ``'avg'`` for global average pooling (``D = C``),
            or an int ``g`` for adaptive average pooling to a ``g x g`` grid
            (``D = C * g * g``).

    Returns:
        Tensor: ``(N, D)`` features.
    """
    if feat.dim() == 2:
        return feat
    if pool == 'avg':
        return feat.mean(dim=(2, 3))
    if isinstance(pool, int) and pool > 0:
        return F.adaptive_avg_pool2d(feat, pool).flatten(1)
    raise ValueError(f"pool must be 'avg' or a positive int, got {pool!r}")


def _gather_rows(t: torch.Tensor) -> torch.Tensor:
    """All-gather tensors whose first dimension differs across ranks."""
    if dist.get_world_size() == 1:
        return t
    n = torch.tensor([t.shape[0]], dtype=torch.long)
    sizes = [int(s) for s in dist.all_gather(n)]
    pad = t.new_zeros((max(sizes) - t.shape[0], ) + tuple(t.shape[1:]))
    parts = dist.all_gather(torch.cat([t, pad]))
    return torch.cat([p[:s].cpu() for p, s in zip(parts, sizes)])


@torch.no_grad()
def extract_dataloader_features(backbone: nn.Module,
                                data_preprocessor: nn.Module,
                                dataloader: Sequence[dict],
                                layers: Sequence[str] = ('res5', ),
                                pool: Union[PoolSpec, Dict[str,
                                                           PoolSpec]] = 'avg',
                                normalize: bool = True,
                                gather: bool = False,
                                desc: str = 'extracting features') -> dict:
    """Frozen features of every image of a dataloader.

    Shows a progress bar in batches on a terminal, on rank 0 (see
    :mod:`pirl_plugin.utils.progress`; ``PIRL_PROGRESS=0`` or ``CI`` turn it
    off).

    Args:
        backbone (nn.Module): a :class:`ResNetWithStem` returning all five
            layers, or any backbone whose last output is used as ``res5``
            (then ``layers`` must be ``('res5',)``).
        data_preprocessor (nn.Module): e.g. ``ClsDataPreprocessor``
            (normalisation, BGR to RGB); moved to the backbone's device.
        dataloader (iterable): batches of ``PackInputs`` outputs from an
            MMEngine ``BaseDataset`` (samples must carry ``sample_idx``).
        layers (sequence[str]): layers to return, from :data:`LAYER_NAMES`.
        pool (str | int | dict): pooling per layer (see
            :func:`pool_feature`); a dict maps layer name to pooling.
        normalize (bool): L2-normalise each pooled feature. Defaults to True.
        gather (bool): all-gather the shards of a distributed sampler so
            that every rank returns the whole dataset. Defaults to False.
        desc (str): label of the progress bar.

    Returns:
        dict: ``feats`` (dict layer -> ``(N, D)`` float32 CPU tensor),
        ``sample_idx`` (``(N,)`` long, sorted, unique) and ``labels``
        (``(N,)`` long single labels, or None for multi-label data).
    """
    layers = check_layers(layers)
    was_training = backbone.training
    backbone.eval()
    feats, indices, labels, single_label = _extract_batches(
        backbone, data_preprocessor, dataloader, layers, pool, normalize, desc)
    backbone.train(was_training)
    if not indices:
        raise ValueError('the dataloader yielded no images')
    out = {name: torch.cat(v) for name, v in feats.items()}
    idx = torch.tensor(indices, dtype=torch.long)
    lab = torch.tensor(labels, dtype=torch.long)
    if gather:
        out = {name: _gather_rows(v) for name, v in out.items()}
        idx, lab = _gather_rows(idx), _gather_rows(lab)
        single_label = bool((lab >= 0).all())
    return _sorted_unique(out, idx, lab, single_label)


def _extract_batches(
    backbone: nn.Module, data_preprocessor: nn.Module,
    dataloader: Sequence[dict], layers: List[str],
    pool: Union[PoolSpec, Dict[str, PoolSpec]], normalize: bool, desc: str
) -> Tuple[Dict[str, List[torch.Tensor]], List[int], List[int], bool]:
    """Run the backbone over a dataloader, batch by batch.

    Args:
        backbone, data_preprocessor, dataloader, pool, normalize, desc: see
            :func:`extract_dataloader_features`.
        layers (list[str]): checked layer names.

    Returns:
        tuple: per-layer lists of ``(B, D)`` features, the ``sample_idx``
        list, the label list (-1 where not single-label) and whether every
        sample has a single label.
    """
    device = next(backbone.parameters()).device
    data_preprocessor = data_preprocessor.to(device)
    feats = {name: [] for name in layers}
    indices, labels = [], []
    single_label = True
    try:
        num_batches = len(dataloader)
    except TypeError:
        num_batches = 0
    for data in track(dataloader, num_batches,
                      f'{desc} ({num_batches} batches)'):
        data = data_preprocessor(data, False)
        by_name = _outputs_by_layer(backbone(data['inputs']), layers)
        for name, f in _pooled_features(by_name, layers, pool,
                                        normalize).items():
            feats[name].append(f)
        single_label &= _append_sample_meta(data['data_samples'], indices,
                                            labels)
    return feats, indices, labels, single_label


def _outputs_by_layer(outs, layers: List[str]) -> Dict[str, torch.Tensor]:
    """Name a backbone's outputs by layer.

    Args:
        outs (Tensor | tuple[Tensor]): the backbone's outputs.
        layers (list[str]): the layers asked for.

    Returns:
        dict: layer name -> feature map.
    """
    outs = outs if isinstance(outs, (tuple, list)) else (outs, )
    if len(outs) == len(LAYER_NAMES):
        return dict(zip(LAYER_NAMES, outs))
    if layers == ['res5']:
        return dict(res5=outs[-1])
    raise ValueError(
        f'the backbone returns {len(outs)} outputs; layers {layers} '
        'need a ResNetWithStem with out_indices=(0, 1, 2, 3) (see '
        'build_feature_backbone)')


def _pooled_features(by_name: Dict[str, torch.Tensor], layers: List[str],
                     pool: Union[PoolSpec, Dict[str, PoolSpec]],
                     normalize: bool) -> Dict[str, torch.Tensor]:
    """Pool (and optionally L2-normalise) each asked layer of one batch.

    Args:
        by_name (dict): layer name -> feature map.
        layers (list[str]): the layers to return.
        pool (str | int | dict): pooling, per layer if a dict.
        normalize (bool): L2-normalise each pooled feature.

    Returns:
        dict: layer name -> ``(B, D)`` float32 CPU tensor.
    """
    pooled = {}
    for name in layers:
        p = pool.get(name, 'avg') if isinstance(pool, dict) else pool
        f = pool_feature(by_name[name], p).float()
        if normalize:
            f = F.normalize(f, dim=1)
        pooled[name] = f.cpu()
    return pooled


def _append_sample_meta(data_samples: Sequence, indices: List[int],
                        labels: List[int]) -> bool:
    """Append each sample's ``sample_idx`` and single label (-1 if none).

    Args:
        data_samples (sequence[DataSample]): one batch's samples.
        indices (list[int]): extended in place with ``sample_idx``.
        labels (list[int]): extended in place with the labels.

    Returns:
        bool: whether every sample of the batch has a single label.
    """
    single_label = True
    for sample in data_samples:
        if 'sample_idx' not in sample:
            raise KeyError(
                'feature extraction needs sample_idx in every data '
                "sample: keep 'sample_idx' in PackInputs' meta_keys")
        indices.append(int(sample.sample_idx))
        gt = sample.get('gt_label', None)
        if gt is None or gt.numel() != 1:
            single_label = False
            labels.append(-1)
        else:
            labels.append(int(gt.item()))
    return single_label


def _sorted_unique(out: Dict[str, torch.Tensor], idx: torch.Tensor,
                   lab: torch.Tensor, single_label: bool) -> dict:
    """Sort rows by dataset index and drop the duplicates a padded
    distributed sampler adds.

    Args:
        out (dict): layer name -> ``(N, D)`` features.
        idx (Tensor): ``(N,)`` dataset indices.
        lab (Tensor): ``(N,)`` labels.
        single_label (bool): whether ``lab`` holds single labels.

    Returns:
        dict: ``feats``, ``sample_idx`` and ``labels`` (None if not
        single-label), as :func:`extract_dataloader_features` returns.
    """
    order = np.argsort(idx.numpy(), kind='stable')
    idx_sorted = idx[order]
    keep = torch.ones_like(idx_sorted, dtype=torch.bool)
    keep[1:] = idx_sorted[1:] != idx_sorted[:-1]
    order = torch.from_numpy(order)[keep]
    return dict(
        feats={name: v[order]
               for name, v in out.items()},
        sample_idx=idx[order],
        labels=lab[order] if single_label else None)
