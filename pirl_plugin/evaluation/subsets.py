"""Class-balanced, seeded label subsets for semi-supervised fine-tuning.

Annotation files use MMPretrain's format (``CustomDataset`` / ``ImageNet``
``ann_file``): one ``relative/path.JPEG label`` line per image, the path
relative to the dataset's ``data_prefix`` (e.g. ``data/imagenet/train``).
"""
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

Sample = Tuple[str, int]

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                  '.tiff', '.webp')


def read_ann_file(path: str) -> List[Sample]:
    """Read ``relative/path label`` lines (blank lines are skipped)."""
    samples = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            parts = line.rsplit(maxsplit=1)
            if len(parts) != 2 or not parts[1].lstrip('-').isdigit():
                raise ValueError(
                    f'{path}:{lineno}: expected "relative/path label", got '
                    f'{line!r}')
            samples.append((parts[0], int(parts[1])))
    if not samples:
        raise ValueError(f'{path} lists no images')
    return samples


def scan_image_folder(
    root: str,
    extensions: Sequence[str] = IMG_EXTENSIONS
) -> Tuple[List[Sample], List[str]]:
    """List ``root/<class>/**/<image>`` with labels from the sorted class
    folder names (the order MMPretrain's ``CustomDataset`` uses; for the
    ImageNet train folder it is the order of the synset ids, i.e. the
    standard ImageNet-1k labels).

    Returns:
        tuple: the samples (path relative to ``root``, label) and the class
        names.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'image folder {root!r} not found')
    classes = sorted(
        e for e in os.listdir(root) if osp.isdir(osp.join(root, e)))
    if not classes:
        raise ValueError(f'{root!r} has no class sub-folders')
    exts = tuple(e.lower() for e in extensions)
    samples = []
    for label, cls in enumerate(classes):
        for dirpath, _, files in sorted(os.walk(osp.join(root, cls))):
            for name in sorted(files):
                if name.lower().endswith(exts):
                    rel = osp.relpath(osp.join(dirpath, name), root)
                    samples.append((rel.replace(os.sep, '/'), label))
    if not samples:
        raise ValueError(f'no images with extensions {exts} under {root!r}')
    return samples, classes


def class_balanced_subset(samples: Sequence[Sample],
                          fraction: Optional[float] = None,
                          per_class: Optional[int] = None,
                          seed: int = 0) -> Tuple[List[Sample], Dict]:
    """Pick the same number of images from every class, reproducibly.

    Every class gets ``per_class`` images, or
    ``round(fraction * len(samples) / num_classes)`` (at least 1); a class
    with fewer images gives all of them (reported in the summary). The
    images of each class are shuffled by a generator seeded with
    ``(seed, label)`` and the first ones are kept, so the result does not
    depend on the input order, and for one seed a smaller subset is
    contained in a larger one (the 1% subset is inside the 10% subset).

    Args:
        samples (sequence[tuple[str, int]]): ``(path, label)`` pairs.
        fraction (float, optional): fraction of the whole set, in (0, 1].
        per_class (int, optional): images per class (instead of
            ``fraction``).
        seed (int): random seed. Defaults to 0.

    Returns:
        tuple: the subset (sorted by label, then path) and a summary dict
        (``num_classes``, ``per_class``, ``num_images``, ``short_classes``).
    """
    if (fraction is None) == (per_class is None):
        raise ValueError('give exactly one of fraction and per_class')
    by_class: Dict[int, List[str]] = defaultdict(list)
    for path, label in samples:
        by_class[int(label)].append(path)
    if not by_class:
        raise ValueError('no samples to subsample')
    if per_class is None:
        if not 0 < fraction <= 1:
            raise ValueError(f'fraction must be in (0, 1], got {fraction}')
        per_class = max(1, int(round(fraction * len(samples) / len(by_class))))
    elif per_class < 1:
        raise ValueError(f'per_class must be >= 1, got {per_class}')
    subset, short = [], {}
    for label in sorted(by_class):
        paths = sorted(set(by_class[label]))
        rng = np.random.default_rng([int(seed), label])
        chosen = [paths[i] for i in rng.permutation(len(paths))[:per_class]]
        if len(chosen) < per_class:
            short[label] = len(chosen)
        subset.extend((p, label) for p in sorted(chosen))
    summary = dict(
        num_classes=len(by_class),
        per_class=per_class,
        num_images=len(subset),
        short_classes=short)
    return subset, summary


def write_ann_file(samples: Sequence[Sample], path: str) -> None:
    """Write ``relative/path label`` lines (directories are created)."""
    for p, _ in samples:
        if any(c.isspace() for c in p):
            raise ValueError(
                f'image path {p!r} contains white space, which the '
                'annotation-file format cannot represent; rename the file')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.writelines(f'{p} {label}\n' for p, label in samples)
