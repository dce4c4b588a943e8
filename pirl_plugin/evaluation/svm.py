"""The VOC07 linear-SVM benchmark on frozen features: labels, SVMs, AP.

Protocol (Goyal et al., ICCV 2019, used by the PIRL paper): one binary
linear SVM per class on the features of VOC2007 ``trainval``, evaluated by
average precision on VOC2007 ``test``. An image is a positive of a class if
it holds at least one non-difficult object of the class; an image whose only
objects of the class are "difficult" is ignored for that class (neither
positive nor negative), in training and in evaluation; all other images are
negatives. The SVM cost is chosen per class by k-fold cross-validation (AP)
on ``trainval``, then the SVM is retrained on all of ``trainval``.

Everything here works on plain arrays, so it can be tested without images.
The targets and the AP are in :mod:`.voc07_metrics`, the SVM of one class in
:mod:`.class_svm`; this module runs every class.
"""
import math
from typing import Dict, List, Optional, Sequence

import numpy as np

from pirl_plugin.utils.progress import track
from .class_svm import DEFAULT_COSTS, train_class_svm
from .voc07_metrics import average_precision, voc07_targets

__all__ = [
    'DEFAULT_COSTS', 'average_precision', 'class_names_from_dataset',
    'format_ap_table', 'l2_normalize', 'svm_benchmark', 'train_class_svm',
    'voc07_targets'
]


def l2_normalize(feats: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Row-wise L2 normalisation."""
    feats = np.asarray(feats, dtype=np.float32)
    return feats / np.maximum(
        np.linalg.norm(feats, axis=1, keepdims=True), eps)


def svm_benchmark(train_feats: np.ndarray,
                  train_targets: np.ndarray,
                  test_feats: np.ndarray,
                  test_targets: np.ndarray,
                  class_names: Optional[Sequence[str]] = None,
                  costs: Sequence[float] = DEFAULT_COSTS,
                  cv_folds: int = 3,
                  pos_weight: float = 2.0,
                  normalize: bool = True,
                  ap_mode: str = 'area',
                  max_iter: int = 2000,
                  n_jobs: int = 1,
                  seed: int = 0) -> dict:
    """Train one linear SVM per class and report test AP and mAP.

    Args:
        train_feats (np.ndarray): ``(N, D)`` trainval features.
        train_targets (np.ndarray): ``(N, C)`` targets (see
            :func:`voc07_targets`).
        test_feats (np.ndarray): ``(M, D)`` test features.
        test_targets (np.ndarray): ``(M, C)`` targets.
        class_names (sequence[str], optional): defaults to ``'0'``, ``'1'``...
        costs, cv_folds, pos_weight, ap_mode, max_iter, seed: see
            :func:`train_class_svm`.
        normalize (bool): L2-normalise the features first. Defaults to True.
        n_jobs (int): classes trained in parallel (joblib). Defaults to 1.

    Shows a progress bar in classes (fits done) on a terminal (see
    :mod:`pirl_plugin.utils.progress`; ``PIRL_PROGRESS=0`` or ``CI`` turn it
    off).

    Returns:
        dict: ``ap`` (class -> AP in %, None for a class without positives
        in train or test), ``mAP`` (mean over the classes with an AP, in
        %), ``cost`` (class -> chosen cost), ``cv_ap`` (class -> {cost: mean
        fold AP in %}), ``skipped`` (classes left out of the mAP).
    """
    train_targets = np.asarray(train_targets)
    test_targets = np.asarray(test_targets)
    names = _class_names(train_feats, train_targets, test_feats, test_targets,
                         class_names)
    costs = list(costs)
    if normalize:
        train_feats, test_feats = l2_normalize(train_feats), l2_normalize(
            test_feats)
    fits = _fit_classes(train_feats, train_targets, costs, cv_folds,
                        pos_weight, ap_mode, max_iter, n_jobs, seed)
    return _score_classes(names, fits, test_feats, test_targets, ap_mode)


def _class_names(train_feats: np.ndarray, train_targets: np.ndarray,
                 test_feats: np.ndarray, test_targets: np.ndarray,
                 class_names: Optional[Sequence[str]]) -> List[str]:
    """Check the shapes of :func:`svm_benchmark`'s inputs.

    Args:
        train_feats, train_targets, test_feats, test_targets, class_names:
            see :func:`svm_benchmark`.

    Returns:
        list[str]: one name per class.
    """
    if train_targets.ndim != 2 or test_targets.ndim != 2 or \
            train_targets.shape[1] != test_targets.shape[1]:
        raise ValueError(
            'train_targets and test_targets must be (N, C) and (M, C), got '
            f'{train_targets.shape} and {test_targets.shape}')
    if len(train_feats) != len(train_targets) or \
            len(test_feats) != len(test_targets):
        raise ValueError('features and targets differ in length')
    num_classes = train_targets.shape[1]
    names = list(class_names) if class_names is not None else [
        str(c) for c in range(num_classes)
    ]
    if len(names) != num_classes:
        raise ValueError(f'{len(names)} class names for {num_classes} '
                         'classes')
    return names


def _fit_classes(train_feats: np.ndarray, train_targets: np.ndarray,
                 costs: List[float], cv_folds: int, pos_weight: float,
                 ap_mode: str, max_iter: int, n_jobs: int,
                 seed: int) -> List[dict]:
    """Train the SVM of every class with joblib, with a progress bar.

    Args:
        train_feats (np.ndarray): ``(N, D)`` trainval features.
        train_targets (np.ndarray): ``(N, C)`` targets.
        costs, cv_folds, pos_weight, ap_mode, max_iter, seed: see
            :func:`train_class_svm`.
        n_jobs (int): classes trained in parallel.

    Returns:
        list[dict]: :func:`train_class_svm`'s result per class, in order.
    """
    from joblib import Parallel, delayed
    num_classes = train_targets.shape[1]
    # results in class order, as they complete (for the progress bar)
    try:
        parallel = Parallel(n_jobs=n_jobs, return_as='generator')
    except TypeError:  # joblib < 1.3: all results at the end
        parallel = Parallel(n_jobs=n_jobs)
    return list(
        track(
            parallel(
                delayed(train_class_svm)
                (train_feats, train_targets[:, c], costs, cv_folds, pos_weight,
                 ap_mode, max_iter, seed) for c in range(num_classes)),
            num_classes, f'SVM: {num_classes} classes x {len(costs)} costs x '
            f'{cv_folds} folds'))


def _score_classes(names: List[str], fits: List[dict], test_feats: np.ndarray,
                   test_targets: np.ndarray, ap_mode: str) -> dict:
    """Test AP of each class's SVM and the mAP.

    Args:
        names (list[str]): class names.
        fits (list[dict]): :func:`train_class_svm`'s result per class.
        test_feats (np.ndarray): ``(M, D)`` test features.
        test_targets (np.ndarray): ``(M, C)`` targets.
        ap_mode (str): see :func:`average_precision`.

    Returns:
        dict: as :func:`svm_benchmark` returns.
    """
    ap: Dict[str, Optional[float]] = {}
    chosen, cv, skipped = {}, {}, []
    for c, (name, fit) in enumerate(zip(names, fits)):
        chosen[name] = fit['cost']
        cv[name] = {
            str(k): (None if math.isnan(v) else v * 100)
            for k, v in fit['cv_ap'].items()
        }
        value = math.nan
        if fit['svm'] is not None:
            value = average_precision(fit['svm'].decision_function(test_feats),
                                      test_targets[:, c], ap_mode)
        if math.isnan(value):
            ap[name] = None
            skipped.append(name)
        else:
            ap[name] = value * 100
    valid = [v for v in ap.values() if v is not None]
    if not valid:
        raise ValueError(
            'no class has positives in both the train and the test set; '
            'check the annotations')
    return dict(
        ap=ap,
        mAP=float(np.mean(valid)),
        cost=chosen,
        cv_ap=cv,
        skipped=skipped)


def format_ap_table(result: dict) -> str:
    """A printable table of per-class AP and the mAP."""
    width = max(len(n) for n in result['ap']) + 2
    lines = [f'{"class":<{width}}{"AP":>7}  {"cost":>8}']
    for name, value in result['ap'].items():
        ap = '    n/a' if value is None else f'{value:7.2f}'
        cost = result['cost'].get(name)
        cost = '-' if cost is None else f'{cost:g}'
        lines.append(f'{name:<{width}}{ap}  {cost:>8}')
    lines.append(f'{"mAP":<{width}}{result["mAP"]:7.2f}')
    return '\n'.join(lines)


def class_names_from_dataset(dataset) -> List[str]:
    """The class names of an MMPretrain dataset (``metainfo['classes']``)."""
    classes = dataset.metainfo.get('classes')
    if not classes:
        raise ValueError(f'{type(dataset).__name__} has no class names')
    return list(classes)
