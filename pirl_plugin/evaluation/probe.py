"""Frozen-feature probes of a labelled image folder: kNN and linear top-1
of a trained checkpoint or of an untrained network, through the project's
one evaluation path (:func:`~pirl_plugin.evaluation.knn_evaluate_config`,
the kNN monitor's), so a final figure is the last point of the monitor's
curve."""
import os
import os.path as osp
from typing import Optional

import torch

from .knn_config import folder_dataloaders, knn_evaluate_config
from .untrained import INIT_LABELS, INITS, with_init


def view_size(cfg, default: int = 64) -> int:
    """The image-view side of a pre-training config: the ``img_size`` of
    the first training transform that has one (PIRL's view transform).

    Args:
        cfg (Config): a pre-training config.
        default (int): when no transform sets ``img_size``. Defaults to 64.

    Returns:
        int: the side in pixels.
    """
    for t in cfg.train_dataloader.dataset.get('pipeline', []):
        if 'img_size' in t:
            return int(t['img_size'])
    return default


def mean_pairwise_cosine(rows) -> float:
    """Mean cosine similarity between different rows: ``(M |mean|^2 - 1)
    / (M - 1)`` of the M L2-normalised rows (1 when all rows are equal).

    Args:
        rows (array-like): ``(M, D)``.

    Returns:
        float: the mean, NaN for fewer than two rows.
    """
    x = torch.nn.functional.normalize(torch.as_tensor(rows).double(), dim=1)
    m = x.shape[0]
    if m < 2:
        return float('nan')
    return (m * float(x.mean(0).pow(2).sum()) - 1.0) / (m - 1.0)


class FolderProber:
    """Weighted kNN and linear probe of frozen, pooled last-stage features
    on ``<data_root>/{train,test}/<class>/<image>``, the images resized to
    ``img_size`` by the kNN monitor's pipeline (:func:`folder_dataloaders`).

    Args:
        data_root (str): folder with labelled ``train/`` and ``test/``.
        img_size (int): side of the resized images.
        k (int): neighbours of the kNN vote. Defaults to 20.
        temperature (float): kNN vote temperature. Defaults to 0.07.
    """

    def __init__(self,
                 data_root: str,
                 img_size: int,
                 k: int = 20,
                 temperature: float = 0.07) -> None:
        for split in ('train', 'test'):
            if not osp.isdir(osp.join(data_root, split)):
                raise FileNotFoundError(
                    f'{data_root} has no {split}/ folder: the probe needs '
                    'labelled train/<class>/ and test/<class>/ splits')
        self.loaders = folder_dataloaders(data_root, img_size)
        self.classes = sorted(
            d for d in os.listdir(osp.join(data_root, 'train'))
            if osp.isdir(osp.join(data_root, 'train', d)))
        self.k, self.temperature = k, temperature

    def probe(self,
              model_cfg: dict,
              checkpoint: Optional[str],
              seed: int = 0) -> dict:
        """Probe the backbone of ``model_cfg`` loaded from ``checkpoint``.

        Args:
            model_cfg (dict): ``cfg.model``.
            checkpoint (str, optional): None for the network at its seeded
                initialisation.
            seed (int): seed of that initialisation. Defaults to 0.

        Returns:
            dict: ``knn_top1``, ``linear_top1`` (%) and
            ``feat_pairwise_sim`` (:func:`mean_pairwise_cosine` of the test
            features).
        """
        res = knn_evaluate_config(
            model_cfg,
            checkpoint,
            *self.loaders,
            ks=(self.k, ),
            temperature=self.temperature,
            seed=seed,
            linear=True,
            return_features=True)
        return dict(
            knn_top1=float(res['knn_top1'][self.k]),
            linear_top1=float(res['linear_top1']),
            feat_pairwise_sim=mean_pairwise_cosine(res['val_feats']))

    def probe_untrained(self,
                        model_cfg: dict,
                        init: str,
                        seed: int = 0) -> dict:
        """:meth:`probe` of the untrained backbone of ``model_cfg`` at the
        named initialisation ``init`` (see
        :mod:`pirl_plugin.evaluation.untrained`).

        Args:
            model_cfg (dict): ``cfg.model``.
            init (str): ``'standard'`` or ``'zero_init'``.
            seed (int): seed of the initialisation. Defaults to 0.

        Returns:
            dict: :meth:`probe`'s, plus ``init``, ``init_label``,
            ``zero_init_residual`` and ``seed``.
        """
        res = self.probe(with_init(model_cfg, init), None, seed)
        res.update(
            init=init,
            init_label=INIT_LABELS[init],
            zero_init_residual=INITS[init],
            seed=seed)
        return res
