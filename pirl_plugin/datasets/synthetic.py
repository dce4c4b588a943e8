"""A small procedural image dataset for the demo and the tests.

Ten classes of shapes (class labels are kept in the folder names for
evaluation only; PIRL never sees them). Each image is a jittered 3 x 3 grid
of shapes of its class with random sizes, rotations and polarities on a
noisy grey background (see :func:`draw_shape` for why it looks like this),
so a representation must capture shape to separate the classes.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional

import cv2
import numpy as np

CLASSES = ('circle', 'square', 'triangle', 'cross', 'ring', 'star', 'hbars',
           'vbars', 'crescent', 'diamond')


def _regular_polygon(cx, cy, r, n, angle, star=False):
    pts = []
    k = 2 * n if star else n
    for i in range(k):
        rr = r if (not star or i % 2 == 0) else r * 0.45
        a = angle + 2 * np.pi * i / k
        pts.append((cx + rr * np.cos(a), cy + rr * np.sin(a)))
    return np.array(pts, dtype=np.int32)


def _draw_element(img: np.ndarray, cls: str, cx: float, cy: float, r: float,
                  ang: float, color, bg) -> None:
    """Draw one shape of class ``cls`` centred at (cx, cy), radius r."""
    thick = max(2, int(r * 0.3))
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
        rot = np.array([[np.cos(ang), -np.sin(ang)],
                        [np.sin(ang), np.cos(ang)]])
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
        # three bars; the orientation is the class, so no rotation here
        step = 2 * r / 3
        for i in range(3):
            o = -r + (i + 0.5) * step
            if cls == 'hbars':
                p0, p1 = (cx - r, cy + o), (cx + r, cy + o)
            else:
                p0, p1 = (cx + o, cy - r), (cx + o, cy + r)
            cv2.line(img, (int(p0[0]), int(p0[1])), (int(p1[0]), int(p1[1])),
                     color, max(2, int(step * 0.45)), cv2.LINE_AA)
    elif cls == 'crescent':
        cv2.circle(img, (int(cx), int(cy)), int(r), color, -1, cv2.LINE_AA)
        ox, oy = 0.45 * r * np.cos(ang), 0.45 * r * np.sin(ang)
        cv2.circle(img, (int(cx + ox), int(cy + oy)), int(r * 0.85), bg, -1,
                   cv2.LINE_AA)
    else:
        raise ValueError(f'unknown class {cls!r}; expected one of {CLASSES}')


def draw_shape(cls: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw one BGR uint8 image of class ``cls``.

    The image is a jittered 3 x 3 grid of shapes of the class, each with its
    own size, rotation and polarity (darker or lighter than a grey, noisy
    background). The design keeps image-level cues other than the class
    weak: the background level varies less than PIRL's brightness jitter,
    polarity is drawn per shape, and every crop shows several shapes. With a
    free background level (an earlier version), instance discrimination
    learned "how bright is this image" instead of the shape: the 20 nearest
    bank entries had the same background level, and the kNN accuracy fell
    below the random initialisation's.
    """
    if cls not in CLASSES:
        raise ValueError(f'unknown class {cls!r}; expected one of {CLASSES}')
    bg_level = rng.uniform(100, 156)
    img = np.full((size, size, 3), bg_level, np.float32)
    img += rng.normal(0, 8, img.shape)
    img = np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8))
    bg_color = (int(bg_level), ) * 3
    cell = size / 3
    for gy in range(3):
        for gx in range(3):
            if rng.random() < 0.15:  # a few empty cells
                continue
            r = rng.uniform(0.32, 0.45) * cell
            cx = (gx + 0.5) * cell + rng.uniform(-0.12, 0.12) * cell
            cy = (gy + 0.5) * cell + rng.uniform(-0.12, 0.12) * cell
            sign = 1 if rng.random() < 0.5 else -1
            level = bg_level + sign * rng.uniform(70, 100)
            color = tuple(
                int(v) for v in np.clip(level + rng.normal(0, 6, 3), 0, 255))
            _draw_element(img, cls, cx, cy, r, rng.uniform(0, 2 * np.pi),
                          color, bg_color)
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
    spec = dict(
        train_per_class=train_per_class,
        test_per_class=test_per_class,
        size=size,
        seed=seed,
        classes=list(CLASSES),
        version=3)
    marker = osp.join(out_dir, 'dataset.json')
    counts = {
        'train': train_per_class * len(CLASSES),
        'test': test_per_class * len(CLASSES)
    }
    if osp.exists(marker):
        with open(marker) as f:
            if json.load(f) == spec:
                return counts
    rng = np.random.default_rng(seed)
    for split, per_class in (('train', train_per_class), ('test',
                                                          test_per_class)):
        for cls in CLASSES:
            d = osp.join(out_dir, split, cls)
            os.makedirs(d, exist_ok=True)
            for i in range(per_class):
                img = draw_shape(cls, size, rng)
                cv2.imwrite(
                    osp.join(d, f'{cls}_{i:05d}.jpg'), img,
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
                img = cv2.resize(
                    img, (size, size), interpolation=cv2.INTER_AREA)
            imgs.append(img)
            labels.append(label)
    return np.stack(imgs), np.array(labels), classes
