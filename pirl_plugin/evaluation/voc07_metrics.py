"""The VOC07 protocol's targets and average precision (see
:mod:`pirl_plugin.evaluation.svm`), on plain arrays."""
from typing import Sequence

import numpy as np

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
