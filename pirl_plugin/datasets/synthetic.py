"""A small procedural image dataset for the demo and the tests.

Ten classes of shapes (class labels are kept in the folder names for
evaluation only; PIRL never sees them). Colours, background, position, size
and rotation are random, so a representation must capture shape rather than
colour to separate the classes.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional

import cv2
import numpy as np

CLASSES = ('circle', 'square', 'triangle', 'cross', 'ring', 'star',
           'hbars', 'vbars', 'crescent', 'diamond')


def _regular_polygon(cx, cy, r, n, angle, star=False):
    pts = []
    k = 2 * n if star else n
    for i in range(k):
        rr = r if (not star or i % 2 == 0) else r * 0.45
        a = angle + 2 * np.pi * i / k
        pts.append((cx + rr * np.cos(a), cy + rr * np.sin(a)))
    return np.array(pts, dtype=np.int32)


def draw_shape(cls: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw one BGR uint8 image of class ``cls``."""
    # Background: a random colour gradient plus noise.
    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = np.linspace(0, 1, size)[:, None, None]
    grad = (c0 * (1 - t) + c1 * t)
    if rng.random() < 0.5:
        grad = grad.transpose(1, 0, 2)
    img = np.broadcast_to(grad, (size, size, 3)).astype(np.float32)
    img = img + rng.normal(0, 12, img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    img = np.ascontiguousarray(img)
    color = tuple(int(v) for v in rng.integers(0, 256, 3))
    # keep the shape visible against the background
    if np.abs(np.array(color) - img.mean((0, 1))).sum() < 120:
        color = tuple(int(255 - v) for v in color)
    r = rng.uniform(0.2, 0.38) * size
    cx = rng.uniform(r, size - r)
    cy = rng.uniform(r, size - r)
    ang = rng.uniform(0, 2 * np.pi)
    thick = max(2, int(r * 0.25))
    if cls == 'circle':
        cv2.circle(img, (int(cx), int(cy)), int(r), color, -1, cv2.LINE_AA)
    elif cls == 'square':
        cv2.fillPoly(img, [_regular_polygon(cx, cy, r, 4, ang)], color,
                     cv2.LINE_AA)
    elif cls == 'triangle':
        cv2.fillPoly(img, [_regular_polygon(cx, cy, r, 3, ang)], color,
                     cv2.LINE_AA)
    elif cls == 'diamond':
        pts = _regular_polygon(0, 0, r, 4, 0).astype(np.float32)
        pts[:, 0] *= 0.5
        rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
        pts = pts @ rot.T + np.array([cx, cy])
        cv2.fillPoly(img, [pts.astype(np.int32)], color, cv2.LINE_AA)
    elif cls == 'star':
        cv2.fillPoly(img, [_regular_polygon(cx, cy, r, 5, ang, star=True)],
                     color, cv2.LINE_AA)
    elif cls == 'ring':
        cv2.circle(img, (int(cx), int(cy)), int(r), color, thick, cv2.LINE_AA)
    elif cls == 'cross':
        for a in (ang, ang + np.pi / 2):
            dx, dy = r * np.cos(a), r * np.sin(a)
            cv2.line(img, (int(cx - dx), int(cy - dy)),
                     (int(cx + dx), int(cy + dy)), color, thick, cv2.LINE_AA)
    elif cls in ('hbars', 'vbars'):
        n = int(rng.integers(3, 6))
        step = 2 * r / n
        for i in range(n):
            o = -r + (i + 0.5) * step
            if cls == 'hbars':
                p0, p1 = (cx - r, cy + o), (cx + r, cy + o)
            else:
                p0, p1 = (cx + o, cy - r), (cx + o, cy + r)
            cv2.line(img, (int(p0[0]), int(p0[1])), (int(p1[0]), int(p1[1])),
                     color, max(2, int(step * 0.45)), cv2.LINE_AA)
    elif cls == 'crescent':
        cv2.circle(img, (int(cx), int(cy)), int(r), color, -1, cv2.LINE_AA)
        bg = tuple(int(v) for v in img[int(cy) % size, 0])
        ox, oy = 0.45 * r * np.cos(ang), 0.45 * r * np.sin(ang)
        cv2.circle(img, (int(cx + ox), int(cy + oy)), int(r * 0.85), bg, -1,
                   cv2.LINE_AA)
    else:
        raise ValueError(f'unknown class {cls!r}')
    return img


def make_shapes_dataset(out_dir: str,
                        train_per_class: int = 200,
                        test_per_class: int = 50,
                        size: int = 96,
                        seed: int = 0) -> Dict[str, int]:
    """Write ``train/<class>/*.jpg`` and ``test/<class>/*.jpg`` under
    ``out_dir`` (idempotent: an identical existing dataset is kept).

    Args:
        out_dir (str): destination folder.
        train_per_class (int): training images per class.
        test_per_class (int): test images per class.
        size (int): image side in pixels.
        seed (int): random seed; the same arguments give the same images.

    Returns:
        dict: number of images per split.
    """
    spec = dict(train_per_class=train_per_class, test_per_class=test_per_class,
                size=size, seed=seed, classes=list(CLASSES), version=1)
    marker = osp.join(out_dir, 'dataset.json')
    counts = {'train': train_per_class * len(CLASSES),
              'test': test_per_class * len(CLASSES)}
    if osp.exists(marker):
        with open(marker) as f:
            if json.load(f) == spec:
                return counts
    rng = np.random.default_rng(seed)
    for split, per_class in (('train', train_per_class),
                             ('test', test_per_class)):
        for cls in CLASSES:
            d = osp.join(out_dir, split, cls)
            os.makedirs(d, exist_ok=True)
            for i in range(per_class):
                img = draw_shape(cls, size, rng)
                cv2.imwrite(osp.join(d, f'{cls}_{i:05d}.jpg'), img,
                            [cv2.IMWRITE_JPEG_QUALITY, 92])
    with open(marker, 'w') as f:
        json.dump(spec, f)
    return counts


def load_split(root: str, split: str, size: Optional[int] = None):
    """Load a split written by :func:`make_shapes_dataset` (or any
    ``<split>/<class>/<image>`` folder) as uint8 BGR arrays and labels."""
    d = osp.join(root, split)
    classes = sorted(e for e in os.listdir(d) if osp.isdir(osp.join(d, e)))
    imgs, labels = [], []
    for label, cls in enumerate(classes):
        for name in sorted(os.listdir(osp.join(d, cls))):
            img = cv2.imread(osp.join(d, cls, name), cv2.IMREAD_COLOR)
            if img is None:
                raise ValueError(f'cannot decode {osp.join(d, cls, name)}')
            if size is not None:
                img = cv2.resize(img, (size, size),
                                 interpolation=cv2.INTER_AREA)
            imgs.append(img)
            labels.append(label)
    return np.stack(imgs), np.array(labels), classes
