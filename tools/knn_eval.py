"""Weighted kNN accuracy of a frozen backbone (the computation of the kNN
monitor and of the demo: :func:`pirl_plugin.evaluation.knn_evaluate_config`).

The backbone (``model.backbone`` of CONFIG, a ResNet) is loaded from a PIRL
checkpoint (``backbone.*`` keys); without a checkpoint the untrained
network is evaluated, seeded, at the standard initialisation
(``zero_init_residual=False``, the fair baseline) unless ``--init
zero_init`` or ``--init config`` asks for another. The memory and the
queries are either

- a labelled folder, ``--data-root ROOT``: ``ROOT/train/<class>/<image>`` is
  the memory and ``ROOT/test/<class>/<image>`` is classified, resized to
  ``--img-size`` (any PIRL config), or
- the labelled ``train_dataloader`` of CONFIG (the memory, through the
  query pipeline unless ``--keep-train-pipeline``) and its
  ``val_dataloader`` (or ``test_dataloader`` with ``--split test``), e.g. a
  linear-probe config:

    python tools/knn_eval.py \\
        configs/benchmarks/mmpretrain/pirl_resnet50_8xb32-linear-coslr-100e_in1k.py \\
        work_dirs/pirl/epoch_800.pth --k 20 200 --out knn.json

Features are the global-average-pooled ``--layer`` (default res5),
L2-normalised; the vote is NPID's (each of the k neighbours votes
exp(similarity / temperature)). Single process.
"""  # noqa: E501
import argparse
import copy
import os.path as osp
import sys

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import pirl_plugin  # noqa: F401
from pirl_plugin.evaluation import (LAYER_NAMES, folder_dataloaders,
                                    knn_evaluate_config)
from pirl_plugin.evaluation.untrained import (INIT_LABELS, INITS,
                                              backbone_init, with_init)
from pirl_plugin.utils.launch import add_result_args, write_result


def add_input_args(parser: argparse.ArgumentParser) -> None:
    """The model and data arguments: config, checkpoint, data root, image
    size and query split."""
    parser.add_argument(
        'config',
        help='config with model.backbone (and '
        'labelled train/val dataloaders without --data-root)')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='PIRL checkpoint (.pth); omit for the random '
        'initialisation')
    parser.add_argument(
        '--checkpoint',
        dest='checkpoint_opt',
        default=None,
        help='the same as the positional CHECKPOINT')
    parser.add_argument(
        '--data-root',
        default=None,
        help='labelled ROOT/{train,test}/<class>/ folder '
        'instead of the config\'s dataloaders')
    parser.add_argument(
        '--img-size', type=int, default=64, help='image size with --data-root')
    parser.add_argument(
        '--split',
        choices=['val', 'test'],
        default='val',
        help='query set: val_dataloader or test_dataloader')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_args(parser)
    parser.add_argument('--layer', choices=LAYER_NAMES, default='res5')
    parser.add_argument('--k', type=int, nargs='+', default=[20])
    parser.add_argument('--temperature', type=float, default=0.07)
    parser.add_argument(
        '--linear',
        action='store_true',
        help='also report a linear probe (logistic '
        'regression) on the same features')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the random initialisation')
    parser.add_argument(
        '--init',
        choices=[*INITS, 'config'],
        default='standard',
        help='initialisation of the untrained network (no checkpoint): '
        'standard (zero_init_residual=False, the default), zero_init, or '
        'the config\'s own')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=None,
        help='overrides the dataloaders\' batch size')
    parser.add_argument('--num-workers', type=int, default=None)
    parser.add_argument(
        '--keep-train-pipeline',
        action='store_true',
        help='use the training pipeline (random '
        'augmentation) for the memory images')
    parser.add_argument(
        '--device', default=None, help='cuda if available, else cpu')
    add_result_args(parser)
    args = parser.parse_args(argv)
    if args.checkpoint and args.checkpoint_opt:
        parser.error('give the checkpoint once')
    args.checkpoint = args.checkpoint or args.checkpoint_opt
    return args


def config_dataloaders(cfg, args):
    """The memory and query dataloader configs of CONFIG."""
    query_key = f'{args.split}_dataloader'
    for key in ('train_dataloader', query_key):
        if not cfg.get(key):
            sys.exit(f'knn_eval.py: {args.config} has no {key}; pass '
                     '--data-root, or use a config with labelled train and '
                     'val dataloaders (e.g. a linear-probe config)')
    train = copy.deepcopy(cfg.train_dataloader.to_dict())
    query = copy.deepcopy(cfg[query_key].to_dict())
    if not args.keep_train_pipeline:
        train['dataset']['pipeline'] = copy.deepcopy(
            query['dataset'].get('pipeline'))
    for loader in (train, query):
        loader['sampler'] = dict(type='DefaultSampler', shuffle=False)
        loader.pop('persistent_workers', None)
    return train, query


def untrained_init(model_cfg, args):
    """The model config to evaluate and the name of its initialisation
    (None when a checkpoint gives the weights)."""
    if args.checkpoint:
        return model_cfg, None
    if args.init == 'config':
        return model_cfg, backbone_init(model_cfg)
    return with_init(model_cfg, args.init), args.init


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'knn_eval.py: config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    if args.data_root:
        loaders = folder_dataloaders(args.data_root, args.img_size)
    else:
        loaders = config_dataloaders(cfg, args)
    for loader in loaders:
        if args.batch_size is not None:
            loader['batch_size'] = args.batch_size
        if args.num_workers is not None:
            loader['num_workers'] = args.num_workers
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model_cfg, init = untrained_init(cfg.model, args)
    try:
        res = knn_evaluate_config(
            model_cfg,
            args.checkpoint,
            *loaders,
            ks=args.k,
            temperature=args.temperature,
            layer=args.layer,
            device=device,
            seed=args.seed,
            linear=args.linear)
    except (FileNotFoundError, KeyError, TypeError, ValueError) as e:
        sys.exit(f'knn_eval.py: {e}')
    name = args.checkpoint or f'the untrained network, {INIT_LABELS[init]}'
    for k, acc in res['knn_top1'].items():
        print(f'kNN (k={k}, T={args.temperature}, {args.layer}) top-1 of '
              f'{name}: {acc:.2f}%')
    if args.linear:
        print(f'linear-probe top-1 of {name}: {res["linear_top1"]:.2f}%')
    result = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        init=init,
        layer=args.layer,
        temperature=args.temperature,
        num_train=res['num_train'],
        num_query=res['num_query'],
        knn_top1={str(k): a
                  for k, a in res['knn_top1'].items()})
    if args.linear:
        result['linear_top1'] = res['linear_top1']
    return write_result(result, args.out)


if __name__ == '__main__':
    main()
