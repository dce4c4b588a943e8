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
"""
import math
import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np

from pirl_plugin.utils.progress import track

#: Default cost sweep (log-spaced, covering the range used by Goyal et al.).
DEFAULT_COSTS = (1e-4, 1e-3, 1e-2, 0.1, 0.5, 1.0, 10.0, 100.0)

POSITIVE, IGNORED, NEGATIVE = 1, 0, -1


def voc07_targets(gt_labels: Sequence[Sequence[int]],
                  difficult_labels: Sequence[Sequence[int]],
                  num_classes: int) -> np.ndarray:
    """Per-image, per-class SVM targets of the VOC07 protocol.

    Args:
        gt_labels (sequence[sequence[int]]): per image, the classes of its
            non-difficult objects (MMPretrain ``VOC``'s ``gt_label``).
        difficult_labels (sequence[sequence[int]]): per image, the classes
            of its difficult objects (``gt_label_difficult``).
        num_classes (int): number of classes (20 for VOC).

    Returns:
        np.ndarray: ``(N, num_classes)`` int8 with 1 (positive), 0
        (ignored: only difficult objects of the class) and -1 (negative).
    """
    if len(gt_labels) != len(difficult_labels):
        raise ValueError('gt_labels and difficult_labels differ in length '
                         f'({len(gt_labels)} vs {len(difficult_labels)})')
    targets = np.full((len(gt_labels), num_classes), NEGATIVE, dtype=np.int8)
    for i, (pos, diff) in enumerate(zip(gt_labels, difficult_labels)):
        targets[i, list(diff)] = IGNORED
        targets[i, list(pos)] = POSITIVE  # a non-difficult object wins
    return targets


def average_precision(scores: np.ndarray,
                      targets: np.ndarray,
                      mode: str = 'area') -> float:
    """Average precision of one class, ignoring the targets equal to 0.

    Args:
        scores (np.ndarray): ``(N,)`` classifier scores.
        targets (np.ndarray): ``(N,)`` targets: > 0 positive, < 0 negative,
            0 ignored.
        mode (str): ``'area'`` for the area under the precision envelope
            (VOC2010+ and the Goyal et al. benchmark), ``'11point'`` for the
            11-point interpolated AP of the VOC2007 devkit.

    Returns:
        float: AP in [0, 1], or NaN if there is no positive.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    targets = np.asarray(targets).reshape(-1)
    if scores.shape != targets.shape:
        raise ValueError(f'scores {scores.shape} and targets '
                         f'{targets.shape} differ in shape')
    keep = targets != 0
    scores, positive = scores[keep], targets[keep] > 0
    num_pos = int(positive.sum())
    if num_pos == 0:
        return float('nan')
    order = np.argsort(-scores, kind='stable')
    hits = positive[order]
    tp = np.cumsum(hits)
    fp = np.cumsum(~hits)
    recall = tp / num_pos
    precision = tp / np.maximum(tp + fp, 1)
    if mode == '11point':
        return float(
            np.mean([
                precision[recall >= t].max() if (recall >= t).any() else 0.0
                for t in np.linspace(0, 1, 11)
            ]))
    if mode != 'area':
        raise ValueError(f"mode must be 'area' or '11point', got {mode!r}")
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # precision envelope
    step = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[step + 1] - mrec[step]) * mpre[step + 1]))


def l2_normalize(feats: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Row-wise L2 normalisation."""
    feats = np.asarray(feats, dtype=np.float32)
    return feats / np.maximum(
        np.linalg.norm(feats, axis=1, keepdims=True), eps)


def _make_svm(cost: float, pos_weight: float, seed: int, max_iter: int):
    from sklearn.svm import LinearSVC
    return LinearSVC(
        C=cost,
        class_weight={
            1: pos_weight,
            -1: 1.0
        },
        loss='squared_hinge',
        penalty='l2',
        dual='auto',
        tol=1e-4,
        max_iter=max_iter,
        random_state=seed)


def _cross_validate(x: np.ndarray, y: np.ndarray, costs: Sequence[float],
                    folds: int, pos_weight: float, ap_mode: str, max_iter: int,
                    seed: int) -> Dict[float, float]:
    """Mean AP over stratified folds of an SVM per candidate cost.

    Args:
        x (np.ndarray): ``(N, D)`` features.
        y (np.ndarray): ``(N,)`` targets in ``{1, -1}``.
        costs (sequence[float]): candidate costs ``C``.
        folds (int): number of folds (at least 2).
        pos_weight, ap_mode, max_iter, seed: see :func:`train_class_svm`.

    Returns:
        dict: cost -> mean fold AP (fraction).
    """
    from sklearn.model_selection import StratifiedKFold
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(x, y))
    cv_ap = {}
    for cost in costs:
        aps = []
        for tr, va in splits:
            svm = _make_svm(cost, pos_weight, seed, max_iter)
            svm.fit(x[tr], y[tr])
            aps.append(
                average_precision(
                    svm.decision_function(x[va]), y[va], ap_mode))
        cv_ap[cost] = float(np.nanmean(aps))
    return cv_ap


def train_class_svm(feats: np.ndarray,
                    targets: np.ndarray,
                    costs: Sequence[float] = DEFAULT_COSTS,
                    cv_folds: int = 3,
                    pos_weight: float = 2.0,
                    ap_mode: str = 'area',
                    max_iter: int = 2000,
                    seed: int = 0) -> dict:
    """Train the SVM of one class, the cost chosen by cross-validation.

    Args:
        feats (np.ndarray): ``(N, D)`` trainval features.
        targets (np.ndarray): ``(N,)`` targets (1 / 0 ignored / -1).
        costs (sequence[float]): candidate costs ``C``.
        cv_folds (int): folds of the stratified cross-validation (reduced to
            the number of positives or negatives if smaller).
        pos_weight (float): class weight of the positives (1 for the
            negatives). Defaults to 2.
        ap_mode (str): AP used to score the folds (see
            :func:`average_precision`).
        max_iter (int): liblinear iterations.
        seed (int): seed of the fold split and of liblinear.

    Returns:
        dict: ``svm`` (the fitted ``LinearSVC`` or None without positives or
        negatives), ``cost`` (chosen cost), ``cv_ap`` (mean fold AP per
        cost, NaN where cross-validation was impossible).
    """
    from sklearn.exceptions import ConvergenceWarning
    if not costs:
        raise ValueError('costs must not be empty')
    keep = targets != IGNORED
    x, y = feats[keep], np.where(targets[keep] > 0, 1, -1)
    num_pos, num_neg = int((y > 0).sum()), int((y < 0).sum())
    if num_pos == 0 or num_neg == 0:
        return dict(svm=None, cost=None, cv_ap={c: math.nan for c in costs})
    folds = min(cv_folds, num_pos, num_neg)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', ConvergenceWarning)
        if folds >= 2:
            cv_ap = _cross_validate(x, y, costs, folds, pos_weight, ap_mode,
                                    max_iter, seed)
            # the first (smallest, most regularised) cost wins ties
            best = max(costs, key=lambda c: (cv_ap[c], -costs.index(c)))
        else:
            cv_ap = {c: math.nan for c in costs}
            best = sorted(costs)[len(costs) // 2]
        svm = _make_svm(best, pos_weight, seed, max_iter)
        svm.fit(x, y)
    return dict(svm=svm, cost=best, cv_ap=cv_ap)


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
