"""Tiny stand-ins for the layouts of every dataset of the paper's
evaluation, as tools/eval_suite.py and the configs read them:

* ImageNet: ``train/<class>/*.jpg``, ``val/<class>/*.jpg``,
  ``meta/{train,val}.txt`` and the semi-supervised subsets
  ``meta/train_{1,10}pct_seed0.txt`` (by the subset tool's functions);
* Places205: ``trainvalsplit_places205/{train,val}_places205.csv`` and the
  images under ``data/vision/torralba/deeplearning/images256``;
* iNaturalist 2018: ``meta/{train,val}.txt`` (the output of
  tools/dataset_converters/make_inat18_ann_files.py) and the images;
* VOC07+12 in MMDetection's VOC layout (``VOCdevkit/VOC2007``, ``VOC2012``),
  which is also the VOC07 classification layout of the SVM tool:
  ``make_tiny_voc`` of tests/test_detection.py.

Images are solid colours (one per class) with noise, 48 px. Also: a
PIRL-like checkpoint of any ResNet shape (``save_backbone_ckpt``)."""
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np
import torch

from pirl_plugin.evaluation.subsets import (class_balanced_subset,
                                            write_ann_file)

COLOURS = [(0, 0, 230), (0, 200, 0), (230, 0, 0)]
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SUITE = osp.join(REPO, 'configs', 'benchmarks', 'eval_suite.py')
TOOL = osp.join(REPO, 'tools', 'eval_suite.py')
TASKS = ('det', 'linear', 'svm', 'places205', 'inat18', 'per_layer',
         'semisup_1pct', 'semisup_10pct')


def write_images(root: str, rel_dir: str, label: int, count: int,
                 rng) -> List[Tuple[str, int]]:
    """``count`` noisy images of class ``label``'s colour in
    ``root/rel_dir``; returns their paths relative to ``root``."""
    os.makedirs(osp.join(root, rel_dir), exist_ok=True)
    samples = []
    for i in range(count):
        img = np.full((48, 48, 3), COLOURS[label], np.float32)
        img = np.clip(img + rng.normal(0, 4, img.shape), 0, 255)
        rel = osp.join(rel_dir, f'{i:03d}.jpg')
        cv2.imwrite(osp.join(root, rel), img.astype(np.uint8))
        samples.append((rel, label))
    return samples


def make_imagenet(root: str, rng, train: int = 4, val: int = 2) -> str:
    splits = {}
    for split, count in (('train', train), ('val', val)):
        samples = []
        for label in range(len(COLOURS)):
            samples += write_images(
                osp.join(root, split), f'n{label:08d}', label, count, rng)
        write_ann_file(samples, osp.join(root, 'meta', f'{split}.txt'))
        splits[split] = samples
    for pct, per_class in ((1, 1), (10, 2)):
        subset, _ = class_balanced_subset(splits['train'], per_class=per_class)
        write_ann_file(subset,
                       osp.join(root, 'meta', f'train_{pct}pct_seed0.txt'))
    return root


def make_places205(root: str, rng) -> str:
    images = osp.join(root, 'data/vision/torralba/deeplearning/images256')
    for split, count in (('train', 4), ('val', 2)):
        samples = []
        for label, name in enumerate(('a/abbey', 'b/bakery', 'c/canyon')):
            samples += write_images(images, f'{name}/{split}', label, count,
                                    rng)
        write_ann_file(
            samples,
            osp.join(root, 'trainvalsplit_places205',
                     f'{split}_places205.csv'))
    return root


def make_inat18(root: str, rng) -> str:
    for split, count in (('train', 4), ('val', 2)):
        samples = []
        for label in range(len(COLOURS)):
            samples += write_images(root,
                                    f'train_val2018/Plantae/{label}/{split}',
                                    label, count, rng)
        write_ann_file(samples, osp.join(root, 'meta', f'{split}.txt'))
    return root


def make_all(root: str) -> Dict[str, str]:
    """Every stand-in under ``root``.

    Returns:
        dict[str, str]: data root per name of configs/benchmarks/
        eval_suite.py's ``data_roots``.
    """
    from test_detection import make_tiny_voc
    rng = np.random.default_rng(0)
    return dict(
        imagenet=make_imagenet(osp.join(root, 'imagenet'), rng),
        places205=make_places205(osp.join(root, 'places205'), rng),
        inat18=make_inat18(osp.join(root, 'inaturalist2018'), rng),
        voc=make_tiny_voc(root).rstrip('/'))


def save_backbone_ckpt(path, seed=0, **arch):
    """A PIRL-like checkpoint: ``backbone.*`` of an MMPretrain ResNet and
    a memory bank."""
    from mmpretrain.models.backbones import ResNet
    torch.manual_seed(seed)
    net = ResNet(**arch)
    state = {f'backbone.{k}': v for k, v in net.state_dict().items()}
    state['memory_bank.bank'] = torch.randn(8, 4)
    torch.save(dict(state_dict=state, meta=dict(epoch=1)), path)
    return str(path)
