"""Weighted kNN accuracy of a frozen PIRL backbone on MMPretrain datasets.

The backbone (``model.backbone`` of CONFIG, a ResNet) is loaded from a PIRL
checkpoint (``backbone.*`` keys). The labelled ``train_dataloader`` of
CONFIG is the kNN memory and its ``val_dataloader`` (or ``test_dataloader``
with ``--split test``) is classified. Any config with labelled dataloaders
works, e.g. a linear-probe config:

    python tools/benchmarks/knn_eval.py \\
        configs/benchmarks/mmpretrain/pirl_resnet50_8xb32-linear-coslr-100e_in1k.py \\
        work_dirs/pirl/epoch_800.pth --k 20 200 --out knn.json

The training images go through the *evaluation* pipeline (no random
augmentation) unless ``--keep-train-pipeline``. Features are the
global-average-pooled ``--layer`` (default res5), L2-normalised; the vote is
NPID's (each of the k neighbours votes exp(similarity / temperature)).
Single process; the kNN runs on the CPU.
"""  # noqa: E501
import argparse
import copy
import json
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS
from torch.utils.data import DataLoader

import pirl_plugin  # noqa: F401
from pirl_plugin.benchmarks import (LAYER_NAMES, backbone_from_config,
                                    extract_dataloader_features,
                                    knn_accuracies, preprocessor_from_config)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config with model.backbone and '
                        'labelled train/val dataloaders')
    parser.add_argument('checkpoint', help='PIRL checkpoint (.pth)')
    parser.add_argument('--split', choices=['val', 'test'], default='val',
                        help='query set: val_dataloader or test_dataloader')
    parser.add_argument('--layer', choices=LAYER_NAMES, default='res5')
    parser.add_argument('--k', type=int, nargs='+', default=[20])
    parser.add_argument('--temperature', type=float, default=0.07)
    parser.add_argument('--batch-size', type=int, default=None,
                        help='overrides the dataloaders\' batch size')
    parser.add_argument('--num-workers', type=int, default=None)
    parser.add_argument('--keep-train-pipeline', action='store_true',
                        help='use the training pipeline (random '
                        'augmentation) for the memory images')
    parser.add_argument('--device', default=None,
                        help='cuda if available, else cpu')
    parser.add_argument('--out', default=None, help='write a JSON result')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value (as in tools/train.py)')
    return parser.parse_args(argv)


def build_loader(loader_cfg: dict, pipeline, batch_size, num_workers):
    """A deterministic DataLoader over ``loader_cfg['dataset']``."""
    dataset_cfg = copy.deepcopy(dict(loader_cfg['dataset']))
    if pipeline is not None:
        dataset_cfg['pipeline'] = copy.deepcopy(pipeline)
    dataset = DATASETS.build(dataset_cfg)
    return DataLoader(
        dataset,
        batch_size=batch_size or loader_cfg.get('batch_size', 32),
        num_workers=(loader_cfg.get('num_workers', 0)
                     if num_workers is None else num_workers),
        shuffle=False,
        collate_fn=pseudo_collate)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'knn_eval.py: config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    query_key = f'{args.split}_dataloader'
    for key in ('train_dataloader', query_key):
        if not cfg.get(key):
            sys.exit(f'knn_eval.py: {args.config} has no {key}; use a config '
                     'with labelled train and val dataloaders (e.g. a '
                     'linear-probe config)')
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        backbone = backbone_from_config(cfg.model, args.checkpoint, device)
    except (FileNotFoundError, KeyError, TypeError, ValueError) as e:
        sys.exit(f'knn_eval.py: {e}')
    preprocessor = preprocessor_from_config(cfg.model)
    eval_pipeline = cfg[query_key]['dataset'].get('pipeline')
    loaders = dict(
        train=build_loader(cfg.train_dataloader,
                           None if args.keep_train_pipeline else eval_pipeline,
                           args.batch_size, args.num_workers),
        query=build_loader(cfg[query_key], None, args.batch_size,
                           args.num_workers))
    feats = {}
    for name, loader in loaders.items():
        res = extract_dataloader_features(
            backbone, preprocessor, loader, layers=(args.layer, ), pool='avg')
        if res['labels'] is None:
            sys.exit(f'knn_eval.py: the {name} dataset is not single-label')
        feats[name] = res
    accs = knn_accuracies(feats['train']['feats'][args.layer],
                          feats['train']['labels'],
                          feats['query']['feats'][args.layer],
                          feats['query']['labels'], args.k, args.temperature)
    for k, acc in accs.items():
        print(f'kNN (k={k}, T={args.temperature}, {args.layer}) top-1 of '
              f'{args.checkpoint}: {acc:.2f}%')
    result = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        layer=args.layer,
        temperature=args.temperature,
        num_train=len(feats['train']['labels']),
        num_query=len(feats['query']['labels']),
        knn_top1={str(k): a for k, a in accs.items()})
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
