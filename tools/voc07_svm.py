"""VOC07 linear-SVM benchmark of a frozen PIRL backbone (paper: mAP 81.1).

1. Frozen features of VOC2007 ``trainval`` and ``test`` (VOCdevkit layout:
   ``<data-root>/{JPEGImages,Annotations,ImageSets/Main}``), read with
   MMPretrain's ``VOC`` dataset: the short side resized to 256 and a
   224 x 224 centre crop (``--img-size``), the ``--layer`` feature pooled
   (``--pool avg``: global average pooling, 2048-d res5; or an int grid) and
   L2-normalised. Features are cached as ``.npz`` under ``--cache-dir``,
   keyed by checkpoint (path, size, time), layer, pooling, image size and
   split, so a second run (another cost sweep, another layer) skips the
   extraction.
2. One linear SVM per class (scikit-learn ``LinearSVC``, positives weighted
   2), cost chosen per class by stratified k-fold cross-validation (AP) on
   trainval, retrained on all of trainval. An image is positive for a class
   if it holds a non-difficult object of the class, ignored if it holds
   only difficult ones, negative otherwise.
3. Per-class AP and mAP on test: printed table and ``--out`` JSON.

Example::

    python tools/voc07_svm.py \\
        configs/pirl/pirl_resnet50_8xb32-coslr-800e_in1k.py \\
        work_dirs/pirl/epoch_800.pth --data-root data/VOCdevkit/VOC2007 \\
        --out work_dirs/voc07_svm/res5.json
"""
import argparse
import hashlib
import os
import os.path as osp
import sys
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS
from torch.utils.data import DataLoader

import pirl_plugin  # noqa: F401
from pirl_plugin.evaluation import (LAYER_NAMES, backbone_from_config,
                                    extract_dataloader_features,
                                    preprocessor_from_config)
from pirl_plugin.evaluation.svm import (DEFAULT_COSTS, format_ap_table,
                                        svm_benchmark, voc07_targets)
from pirl_plugin.utils.launch import add_result_args, write_result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'config',
        help='a config with model.backbone (ResNet) '
        'and model.data_preprocessor, e.g. the PIRL config')
    parser.add_argument('checkpoint', help='PIRL checkpoint (.pth)')
    parser.add_argument('--data-root', default='data/VOCdevkit/VOC2007')
    parser.add_argument('--train-split', default='trainval')
    parser.add_argument('--test-split', default='test')
    parser.add_argument('--layer', choices=LAYER_NAMES, default='res5')
    parser.add_argument(
        '--pool',
        default='avg',
        help="'avg' (global average pooling) or an int g for a g x g "
        'adaptive average pooling grid')
    parser.add_argument('--img-size', type=int, default=224)
    parser.add_argument(
        '--costs', type=float, nargs='+', default=list(DEFAULT_COSTS))
    parser.add_argument('--cv-folds', type=int, default=3)
    parser.add_argument('--pos-weight', type=float, default=2.0)
    parser.add_argument(
        '--ap',
        choices=['area', '11point'],
        default='area',
        help="'area': area under the precision envelope; "
        "'11point': the VOC2007 devkit's 11-point AP")
    parser.add_argument('--cache-dir', default='work_dirs/voc07_svm_cache')
    parser.add_argument(
        '--recompute', action='store_true', help='ignore cached features')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-workers', type=int, default=4)
    parser.add_argument(
        '--n-jobs', type=int, default=1, help='classes trained in parallel')
    parser.add_argument(
        '--device', default=None, help='cuda if available, else cpu')
    parser.add_argument('--seed', type=int, default=0)
    add_result_args(parser)
    args = parser.parse_args(argv)
    if args.pool != 'avg':
        try:
            args.pool = int(args.pool)
        except ValueError:
            parser.error(f"--pool must be 'avg' or an int, got {args.pool!r}")
    return args


def cache_path(args, split: str) -> str:
    """The cache file of one split's features."""
    ckpt = osp.abspath(args.checkpoint)
    stat = os.stat(ckpt)
    key = '|'.join(
        str(v) for v in (ckpt, stat.st_size, int(stat.st_mtime),
                         args.layer, args.pool, args.img_size,
                         osp.abspath(args.data_root), split))
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    stem = osp.splitext(osp.basename(ckpt))[0]
    return osp.join(args.cache_dir,
                    f'{stem}_{args.layer}-{args.pool}_{split}_{digest}.npz')


def build_voc(args, split: str):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(
            type='ResizeEdge', scale=args.img_size * 256 // 224, edge='short'),
        dict(type='CenterCrop', crop_size=args.img_size),
        dict(type='PackInputs'),
    ]
    return DATASETS.build(
        dict(
            type='VOC',
            data_root=args.data_root,
            split=split,
            pipeline=pipeline))


def split_features(args, split, backbone, preprocessor, logger=print):
    """Features and targets of one split, from the cache when possible."""
    path = cache_path(args, split)
    if osp.isfile(path) and not args.recompute:
        data = np.load(path)
        logger(f'{split}: loaded cached features {path}')
        return data['feats'], data['targets']
    dataset = build_voc(args, split)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    targets = voc07_targets([i['gt_label'] for i in infos],
                            [i['gt_label_difficult'] for i in infos],
                            len(dataset.metainfo['classes']))
    loader = DataLoader(
        dataset,
        batch_size=args.batch_size,
        shuffle=False,
        num_workers=args.num_workers,
        collate_fn=pseudo_collate)
    start = time.time()
    res = extract_dataloader_features(
        backbone,
        preprocessor,
        loader,
        layers=(args.layer, ),
        pool=args.pool,
        normalize=False)
    feats = res['feats'][args.layer].numpy()
    order = res['sample_idx'].numpy()
    if len(order) != len(dataset):
        raise RuntimeError(f'{split}: {len(order)} features for '
                           f'{len(dataset)} images')
    targets = targets[order]
    os.makedirs(args.cache_dir, exist_ok=True)
    np.savez(
        path,
        feats=feats,
        targets=targets,
        img_paths=np.array([infos[i]['img_path'] for i in order]))
    logger(f'{split}: {len(feats)} x {feats.shape[1]} features in '
           f'{time.time() - start:.0f}s, cached to {path}')
    return feats, targets


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'voc07_svm.py: config file {args.config!r} not found')
    if not osp.isdir(osp.join(args.data_root, 'ImageSets', 'Main')):
        sys.exit(f'voc07_svm.py: --data-root {args.data_root!r} is not a '
                 'VOC2007 folder (expected JPEGImages/, Annotations/ and '
                 'ImageSets/Main/ in it, e.g. data/VOCdevkit/VOC2007)')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        backbone = backbone_from_config(cfg.model, args.checkpoint, device)
    except (FileNotFoundError, KeyError, TypeError, ValueError) as e:
        sys.exit(f'voc07_svm.py: {e}')
    preprocessor = preprocessor_from_config(cfg.model)
    train_x, train_y = split_features(args, args.train_split, backbone,
                                      preprocessor)
    test_x, test_y = split_features(args, args.test_split, backbone,
                                    preprocessor)
    from mmpretrain.datasets.categories import VOC2007_CATEGORIES
    result = svm_benchmark(
        train_x,
        train_y,
        test_x,
        test_y,
        class_names=VOC2007_CATEGORIES,
        costs=args.costs,
        cv_folds=args.cv_folds,
        pos_weight=args.pos_weight,
        ap_mode=args.ap,
        n_jobs=args.n_jobs,
        seed=args.seed)
    print(format_ap_table(result))
    if result['skipped']:
        print(f'not in the mAP (no positives in {args.train_split} or '
              f'{args.test_split}): {result["skipped"]}')
    result.update(
        checkpoint=args.checkpoint,
        layer=args.layer,
        pool=args.pool,
        feat_dim=int(train_x.shape[1]),
        ap_mode=args.ap,
        num_train=int(len(train_x)),
        num_test=int(len(test_x)))
    return write_result(result, args.out)


if __name__ == '__main__':
    main()
