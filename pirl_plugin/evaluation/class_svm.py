"""The linear SVM of one class of the VOC07 benchmark, its cost chosen by
cross-validated average precision (see :mod:`pirl_plugin.evaluation.svm`)."""
import math
import warnings
from typing import Dict, Sequence

import numpy as np

from .voc07_metrics import IGNORED, average_precision

#: Default cost sweep (log-spaced, covering the range used by Goyal et al.).
DEFAULT_COSTS = (1e-4, 1e-3, 1e-2, 0.1, 0.5, 1.0, 10.0, 100.0)


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
