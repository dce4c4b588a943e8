"""Weighted kNN accuracy of a backbone's frozen features.

The labelled ``train`` split is the kNN memory and the ``test`` split is
classified (folders ``<root>/<split>/<class>/<image>``). Without
``--checkpoint`` the backbone is evaluated at its random initialisation (the
baseline the demo compares against).
"""
import argparse
import json
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmpretrain.registry import MODELS

import pirl_plugin  # noqa: F401
from pirl_plugin.datasets.synthetic import load_split
from pirl_plugin.evaluation import extract_features, knn_accuracy


def _features(config: str, checkpoint, data_root: str, img_size: int,
              seed: int = 0):
    """Frozen, pooled, L2-normalised backbone features and labels of the
    ``train`` and ``test`` splits."""
    cfg = Config.fromfile(config)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if checkpoint:
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint {checkpoint!r} not found')
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True,
                        logger='current')
    prep = cfg.model.get('data_preprocessor', {})
    kwargs = dict(mean=prep.get('mean', (123.675, 116.28, 103.53)),
                  std=prep.get('std', (58.395, 57.12, 57.375)),
                  to_rgb=prep.get('to_rgb', True))
    tr_x, tr_y, _ = load_split(data_root, 'train', img_size)
    te_x, te_y, _ = load_split(data_root, 'test', img_size)
    tr_f = extract_features(model.backbone, tr_x, **kwargs)
    te_f = extract_features(model.backbone, te_x, **kwargs)
    return tr_f, torch.from_numpy(tr_y), te_f, torch.from_numpy(te_y)


def evaluate(config: str, checkpoint, data_root: str, img_size: int,
             k: int = 20, temperature: float = 0.07, seed: int = 0) -> float:
    """Build the config's backbone, load ``checkpoint`` (if any) and return
    the kNN top-1 (%) of ``test`` against ``train``."""
    tr_f, tr_y, te_f, te_y = _features(config, checkpoint, data_root,
                                       img_size, seed)
    return knn_accuracy(tr_f, tr_y, te_f, te_y, k, temperature)


def evaluate_knn_and_linear(config: str, checkpoint, data_root: str,
                            img_size: int, k: int = 20,
                            temperature: float = 0.07,
                            seed: int = 0) -> dict:
    """kNN top-1 and linear-probe top-1 (%) on the same frozen features.

    The linear probe is scikit-learn's multinomial logistic regression on
    the standardised features of ``train`` (L2 penalty, C=1), scored on
    ``test``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    tr_f, tr_y, te_f, te_y = _features(config, checkpoint, data_root,
                                       img_size, seed)
    knn = knn_accuracy(tr_f, tr_y, te_f, te_y, k, temperature)
    probe = make_pipeline(StandardScaler(),
                          LogisticRegression(C=1.0, max_iter=2000))
    probe.fit(tr_f.numpy(), tr_y.numpy())
    linear = 100.0 * probe.score(te_f.numpy(), te_y.numpy())
    return dict(knn_top1=float(knn), linear_top1=float(linear))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('--checkpoint', default=None,
                        help='omit to evaluate the random initialisation')
    parser.add_argument('--data-root', default='data/pirl_demo')
    parser.add_argument('--img-size', type=int, default=64)
    parser.add_argument('--k', type=int, default=20)
    parser.add_argument('--temperature', type=float, default=0.07)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=None, help='write the result JSON')
    args = parser.parse_args(argv)
    acc = evaluate(args.config, args.checkpoint, args.data_root,
                   args.img_size, args.k, args.temperature, args.seed)
    name = args.checkpoint or 'random init'
    print(f'kNN (k={args.k}) top-1 of {name}: {acc:.2f}%')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(checkpoint=args.checkpoint, knn_top1=acc,
                           k=args.k), f, indent=2)


if __name__ == '__main__':
    main()
