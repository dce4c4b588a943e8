"""The kNN evaluation of a config's backbone on dataloaders built from
configs: what ``tools/knn_eval.py`` and the demo run
(:func:`~pirl_plugin.evaluation.knn.knn_evaluate` underneath)."""
import copy
from typing import Optional, Sequence

from .frozen_backbone import backbone_from_config, preprocessor_from_config
from .knn import knn_evaluate
from .linear_probe import linear_probe_accuracy


def folder_dataloaders(data_root: str,
                       img_size: int,
                       splits: Sequence[str] = ('train', 'test'),
                       batch_size: int = 128,
                       num_workers: int = 0) -> list:
    """Dataloader configs of labelled ``<data_root>/<split>/<class>/<image>``
    folders at ``img_size`` (``Resize`` to a square, no augmentation): the
    memory and queries of the demo's kNN monitor and of
    ``tools/knn_eval.py --data-root``.

    Returns:
        list[dict]: one dataloader config per split.
    """
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(img_size, img_size)),
        dict(type='PackInputs'),
    ]
    return [
        dict(
            batch_size=batch_size,
            num_workers=num_workers,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='CustomDataset',
                data_root=data_root,
                data_prefix=split,
                pipeline=pipeline)) for split in splits
    ]


def knn_evaluate_config(model_cfg: dict,
                        checkpoint: Optional[str],
                        train_dataloader: dict,
                        val_dataloader: dict,
                        ks: Sequence[int] = (20, ),
                        temperature: float = 0.07,
                        layer: str = 'res5',
                        device: str = 'cpu',
                        seed: int = 0,
                        linear: bool = False,
                        return_features: bool = False) -> dict:
    """:func:`knn_evaluate` of the backbone of ``model_cfg`` loaded from
    ``checkpoint`` (:func:`backbone_from_config`; None: the seeded random
    initialisation), on dataloaders built from configs as the kNN monitor
    builds them (``Runner.build_dataloader``, ``DefaultSampler(shuffle=False)``
    when no sampler is given). The kNN tool and the demo call this.

    Args:
        model_cfg (dict): ``cfg.model`` of a PIRL or linear-probe config.
        checkpoint (str, optional): a PIRL checkpoint, or None.
        train_dataloader, val_dataloader (dict): dataloader configs of the
            memory and the queries (e.g. :func:`folder_dataloaders`).
        ks (sequence[int]): numbers of neighbours. Defaults to (20,).
        temperature (float): vote temperature. Defaults to 0.07.
        layer (str): the layer. Defaults to 'res5'.
        device (str): Defaults to 'cpu'.
        seed (int): seed of the random init and the loaders. Defaults to 0.
        linear (bool): also fit :func:`linear_probe_accuracy` on the same
            features. Defaults to False.
        return_features (bool): also return the query features
            (``val_feats``, ``(num_query, C)``). Defaults to False.

    Returns:
        dict: ``knn_top1`` (``{k: top-1 %}``), ``num_train``, ``num_query``,
        with ``linear`` ``linear_top1``, with ``return_features``
        ``val_feats``.
    """
    from mmengine.registry import DefaultScope, init_default_scope
    if DefaultScope.get_current_instance() is None:
        init_default_scope('mmpretrain')
    backbone = backbone_from_config(model_cfg, checkpoint, device, seed)
    preprocessor = preprocessor_from_config(model_cfg)
    loaders = [
        _build_eval_loader(cfg, seed)
        for cfg in (train_dataloader, val_dataloader)
    ]
    res = knn_evaluate(
        backbone,
        preprocessor,
        *loaders,
        ks=ks,
        temperature=temperature,
        layer=layer)
    return _knn_summary(res, layer, linear, return_features)


def _build_eval_loader(cfg: dict, seed: int):
    """Build an evaluation dataloader as the kNN monitor does.

    Args:
        cfg (dict): a dataloader config; without a sampler it gets
            ``DefaultSampler(shuffle=False)``.
        seed (int): seed of the loader.

    Returns:
        DataLoader: the built dataloader.
    """
    from mmengine.runner import Runner
    cfg = copy.deepcopy(dict(cfg))
    cfg.setdefault('sampler', dict(type='DefaultSampler', shuffle=False))
    return Runner.build_dataloader(cfg, seed=seed)


def _knn_summary(res: dict, layer: str, linear: bool,
                 return_features: bool) -> dict:
    """The result of :func:`knn_evaluate_config` from :func:`knn_evaluate`'s.

    Args:
        res (dict): :func:`knn_evaluate`'s result.
        layer (str): the evaluated layer.
        linear (bool): add ``linear_top1`` of :func:`linear_probe_accuracy`.
        return_features (bool): add the query features ``val_feats``.

    Returns:
        dict: see :func:`knn_evaluate_config`.
    """
    train, val = res['train'], res['val']
    out = dict(
        knn_top1=res['accs'],
        num_train=len(train['labels']),
        num_query=len(val['labels']))
    if linear:
        out['linear_top1'] = linear_probe_accuracy(train['feats'][layer],
                                                   train['labels'],
                                                   val['feats'][layer],
                                                   val['labels'])
    if return_features:
        out['val_feats'] = val['feats'][layer]
    return out
