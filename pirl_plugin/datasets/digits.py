"""A small real-image dataset available offline: scikit-learn's handwritten
digits, upscaled and written as a labelled image folder.

``sklearn.datasets.load_digits()`` ships with scikit-learn (no download):
1,797 greyscale 8 x 8 images of the digits 0-9 (UCI "Optical Recognition of
Handwritten Digits", 4-bit grey levels 0-16, about 180 per class, written by
43 people). :func:`make_digits_dataset` writes them in the layout the
project's tools read, the same as the generated shapes data::

    <root>/train/<digit>/<digit>_<index>.png
    <root>/test/<digit>/<digit>_<index>.png
    <root>/dataset.json          (the arguments, for idempotence)

Each image is padded by ``pad`` background pixels on every side (so random
crops of the PIRL views keep more of the digit), upscaled to ``size`` x
``size`` with a smooth interpolation (bicubic by default, clipped to 0-255)
and stored as a 3-channel PNG (white digit on black, grey levels
``16 * v - 1`` clipped, so 16 maps to 255). The train / test split is
stratified by class with a fixed seed. Labels are only used for evaluation
(kNN and linear probe); pre-training reads ``<root>/train`` without labels.
"""
import json
import os
import os.path as osp
from typing import Dict, Sequence

import cv2
import numpy as np

INTERPOLATIONS = dict(
    cubic=cv2.INTER_CUBIC,
    linear=cv2.INTER_LINEAR,
    area=cv2.INTER_AREA,
    nearest=cv2.INTER_NEAREST)


def upscale_digit(digit: np.ndarray,
                  size: int = 64,
                  pad: int = 1,
                  interpolation: str = 'cubic') -> np.ndarray:
    """One 8 x 8 digit (grey levels 0-16) as a ``size`` x ``size`` x 3
    uint8 image.

    Args:
        digit (np.ndarray): ``(8, 8)`` array with values in [0, 16].
        size (int): output side in pixels.
        pad (int): background pixels added on each side before upscaling.
        interpolation (str): one of ``cubic``, ``linear``, ``area``,
            ``nearest``.

    Returns:
        np.ndarray: ``(size, size, 3)`` uint8 image.
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f'interpolation must be one of '
                         f'{sorted(INTERPOLATIONS)}, got {interpolation!r}')
    if size < 8 or pad < 0:
        raise ValueError(f'need size >= 8 and pad >= 0, got size={size}, '
                         f'pad={pad}')
    grey = np.clip(np.asarray(digit, np.float32) * 16.0, 0, 255)
    if pad:
        grey = np.pad(grey, pad, mode='constant', constant_values=0)
    big = cv2.resize(
        grey, (size, size), interpolation=INTERPOLATIONS[interpolation])
    big = np.clip(np.rint(big), 0, 255).astype(np.uint8)
    return np.repeat(big[:, :, None], 3, axis=2)


def make_digits_dataset(root: str,
                        size: int = 64,
                        test_fraction: float = 0.3,
                        pad: int = 1,
                        interpolation: str = 'cubic',
                        seed: int = 0) -> Dict[str, int]:
    """Write scikit-learn's digits as ``<root>/{train,test}/<digit>/*.png``.

    Idempotent: when ``<root>/dataset.json`` records the same arguments the
    folder is kept as it is.

    Args:
        root (str): destination folder.
        size (int): image side in pixels. Defaults to 64.
        test_fraction (float): share of each class in ``test``, in (0, 1).
            Defaults to 0.3 (1,257 train / 540 test images).
        pad (int): background pixels added around the 8 x 8 digit before
            upscaling. Defaults to 1.
        interpolation (str): ``cubic`` (default), ``linear``, ``area`` or
            ``nearest``.
        seed (int): seed of the stratified split. Defaults to 0.

    Returns:
        dict: number of images per split.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(
            f'test_fraction must be in (0, 1), got {test_fraction}')
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    data = load_digits()
    images, labels = data.images, data.target
    idx_train, idx_test = train_test_split(
        np.arange(len(labels)),
        test_size=test_fraction,
        random_state=seed,
        stratify=labels)
    counts = {'train': int(len(idx_train)), 'test': int(len(idx_test))}
    spec = dict(
        source='sklearn.datasets.load_digits',
        size=size,
        test_fraction=test_fraction,
        pad=pad,
        interpolation=interpolation,
        seed=seed,
        counts=counts,
        version=1)
    marker = osp.join(root, 'dataset.json')
    if osp.exists(marker):
        with open(marker) as f:
            if json.load(f) == spec:
                return counts
    for split, indices in (('train', idx_train), ('test', idx_test)):
        _write_split(
            osp.join(root, split), images, labels, sorted(indices), size, pad,
            interpolation)
    with open(marker, 'w') as f:
        json.dump(spec, f)
    return counts


def _write_split(folder: str, images: np.ndarray, labels: np.ndarray,
                 indices: Sequence[int], size: int, pad: int,
                 interpolation: str) -> None:
    """Write the digits ``indices`` as ``<folder>/<digit>/<digit>_<i>.png``.

    Args:
        folder (str): the split's folder.
        images (np.ndarray): ``(N, 8, 8)`` digits.
        labels (np.ndarray): ``(N,)`` labels.
        indices (sequence[int]): the digits of this split.
        size, pad, interpolation: see :func:`upscale_digit`.
    """
    for i in indices:
        d = osp.join(folder, str(labels[i]))
        os.makedirs(d, exist_ok=True)
        img = upscale_digit(images[i], size, pad, interpolation)
        cv2.imwrite(osp.join(d, f'{labels[i]}_{i:04d}.png'), img)
