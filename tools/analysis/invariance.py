"""Invariance analysis: how far apart are the representations of an image
and of its transformed version? (The PIRL paper's PIRL-vs-Jigsaw figure.)

    python tools/analysis/invariance.py \
        --model PIRL \
          configs/pirl/pirl_resnet18_1xb64-coslr-20e_shapes-demo.py PIRL.pth \
        --model Jigsaw \
          configs/jigsaw/jigsaw_resnet18_1xb64-coslr-20e_shapes-demo.py J.pth \
        --images data/pirl_demo/test --img-size 63 \
        [--transform jigsaw|rotation] [--repr backbone heads] \
        [--max-images 500] [--seed 0] [--out-dir work_dirs/invariance]

For every image I of the folder (searched recursively) and every model, the
l2 distance between the unit-norm representations of I and t(I) is
computed (see :mod:`pirl_plugin.evaluation.invariance`):

- ``--repr backbone`` (default; any model): pooled last backbone stage of
  I resized to ``--img-size`` and of t(I), I with its 3x3 tiles shuffled
  (jigsaw) or rotated by 90/180/270 degrees (rotation);
- ``--repr heads`` (PIRL models only; the paper's definition): f(v_I) and
  g(v_It) on the views the model was trained with (sizes read from the
  config's PIRL transform), centred patches for the jigsaw view.

Every model sees the same t(I) (same seed). CHECKPOINT ``none`` evaluates
the untrained network (seeded) at the config's initialisation,
``none:standard`` / ``none:zero_init`` at that one (``zero_init_residual``
False / True). Writes ``<out-dir>/<name>_<repr>.png`` (overlaid
histograms, one per model) and ``<out-dir>/<name>.json`` (summary
statistics per representation and model).
"""
import argparse
import glob
import json
import logging
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
import torch

IMG_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.ppm', '.pgm', '.tif', '.tiff',
            '.webp')
PIRL_VIEW_TRANSFORMS = ('PIRLJigsawTransform', 'PIRLRotationTransform',
                        'PIRLJigsawRotationTransform')
VIEW_DEFAULTS = dict(
    img_size=224,
    jigsaw_crop_size=255,
    grid_size=3,
    patch_size=64,
    rot_size=224)


def list_images(folder: str, max_images: int) -> List[str]:
    """Up to ``max_images`` image files under ``folder``, evenly spread
    over the sorted list (so every class of a class-sorted folder shows)."""
    if not osp.isdir(folder):
        raise ValueError(f'--images {folder!r} is not a folder')
    files = sorted(
        f for f in glob.glob(osp.join(folder, '**', '*'), recursive=True)
        if f.lower().endswith(IMG_EXTS))
    if not files:
        raise ValueError(f'no images ({", ".join(IMG_EXTS)}) under '
                         f'{folder!r}')
    if max_images < 1:
        raise ValueError(f'--max-images must be >= 1, got {max_images}')
    if len(files) > max_images:
        keep = np.linspace(0, len(files) - 1, max_images).round().astype(int)
        files = [files[i] for i in keep]
    return files


def load_images(files: List[str]) -> List[np.ndarray]:
    """BGR uint8 ``H x W x 3`` images (as mmcv's LoadImageFromFile)."""
    imgs = []
    for f in files:
        img = cv2.imread(f, cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f'cannot decode image {f!r}')
        imgs.append(img)
    return imgs


def to_tensor(imgs: List[np.ndarray], size: int, prep: dict) -> torch.Tensor:
    """Resize to ``size`` x ``size`` and normalise like the model's data
    preprocessor (``mean``, ``std``, ``to_rgb``)."""
    arr = np.stack([
        cv2.resize(i, (size, size), interpolation=cv2.INTER_AREA) for i in imgs
    ]).astype(np.float32)
    if prep.get('to_rgb', prep.get('bgr_to_rgb', False)):
        arr = arr[..., ::-1]
    x = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2)
    mean = torch.tensor(prep.get('mean', (0., 0., 0.))).view(1, 3, 1, 1)
    std = torch.tensor(prep.get('std', (1., 1., 1.))).view(1, 3, 1, 1)
    return (x - mean) / std


def view_params(cfg) -> Optional[dict]:
    """The PIRL view transform of the config's training pipeline, with the
    transform's defaults filled in (None if there is none)."""
    try:
        pipeline = cfg.train_dataloader.dataset.pipeline
    except AttributeError:
        return None
    for t in pipeline:
        if t.get('type') in PIRL_VIEW_TRANSFORMS:
            return {k: t.get(k, v) for k, v in VIEW_DEFAULTS.items()}
    return None


def build_model(config: str,
                checkpoint: Optional[str],
                init: Optional[str] = None):
    """Build the config's model and load ``checkpoint`` (None: untrained,
    seeded, at the initialisation ``init``, a key of ``INITS``, or the
    config's)."""
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import pirl_plugin  # noqa: F401
    from pirl_plugin.utils.checkpoints import load_weights
    if not osp.isfile(config):
        raise ValueError(f'config {config!r} not found')
    cfg = Config.fromfile(config)
    if init is not None:
        from pirl_plugin.evaluation.untrained import with_init
        cfg.model = with_init(cfg.model, init)
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter
    model.init_weights()
    logger.setLevel(level)
    if checkpoint:
        if not osp.isfile(checkpoint):
            raise ValueError(f'checkpoint {checkpoint!r} not found')
        load_weights(model, checkpoint)
    model.eval()
    return cfg, model


def head_inputs(imgs: list, views: dict, prep: dict,
                transform: str) -> Tuple[object, object, dict]:
    """The image views and transformed views that PIRL's heads take.

    Args:
        imgs (list): the loaded images.
        views (dict): :func:`view_params` of the model's config.
        prep (dict): the config's data preprocessor settings.
        transform (str): ``'jigsaw'`` or ``'rotation'``.

    Returns:
        tuple: ``(x, xt, kwargs)`` for ``head_distances``.
    """
    x = to_tensor(imgs, views['img_size'], prep)
    if transform == 'jigsaw':
        xt = to_tensor(imgs, views['jigsaw_crop_size'], prep)
        return x, xt, dict(grid=views['grid_size'], patch=views['patch_size'])
    return x, to_tensor(imgs, views['rot_size'], prep), {}


def analyse(models: List[Tuple[str, str, Optional[str], Optional[str]]],
            images: str,
            transform: str = 'jigsaw',
            reprs=('backbone', ),
            img_size: int = 224,
            max_images: int = 500,
            seed: int = 0,
            batch_size: int = 64) -> Tuple[dict, Dict[str, dict]]:
    """Distances for every (representation, model).

    Args:
        models (list): ``(label, config, checkpoint or None, init or
            None)`` per model, as :func:`model_entry` gives them.

    Returns:
        tuple: ``{repr: {label: Tensor}}`` and ``{repr: {label: reason}}``
        for the models a representation does not apply to.
    """
    from pirl_plugin.evaluation.invariance import (REPRESENTATIONS,
                                                   backbone_distances,
                                                   check_choice,
                                                   head_distances)
    check_choice(transform, ('jigsaw', 'rotation'), '--transform')
    for r in reprs:
        check_choice(r, REPRESENTATIONS, '--repr')
    if img_size < 3:
        raise ValueError(f'--img-size must be >= 3, got {img_size}')
    imgs = load_images(list_images(images, max_images))
    out = {r: {} for r in reprs}
    skipped = {r: {} for r in reprs}
    for label, config, ckpt, init in models:
        cfg, model = build_model(config, ckpt, init)
        prep = dict(cfg.model.get('data_preprocessor', {}) or {})
        for r in reprs:
            if r == 'backbone':
                size = img_size - img_size % 3 if transform == 'jigsaw' \
                    else img_size
                x = to_tensor(imgs, size, prep)
                out[r][label] = backbone_distances(model.backbone, x,
                                                   transform, 3, seed,
                                                   batch_size)
                continue
            views = view_params(cfg)
            if views is None or not hasattr(model, 'neck'):
                skipped[r][label] = 'not a PIRL model (no heads f and g)'
                continue
            x, xt, kw = head_inputs(imgs, views, prep, transform)
            try:
                out[r][label] = head_distances(
                    model,
                    x,
                    xt,
                    transform,
                    seed=seed,
                    batch_size=batch_size,
                    **kw)
            except ValueError as e:
                skipped[r][label] = str(e)
        del model
    return out, skipped


def write_outputs(results: dict, skipped: dict, out_dir: str, name: str,
                  transform: str, meta: dict) -> dict:
    """Save one PNG per representation and the JSON summary."""
    from pirl_plugin.evaluation.invariance import plot_histograms, summarize
    os.makedirs(out_dir, exist_ok=True)
    summary = dict(meta, transform=transform, representations={})
    titles = dict(
        backbone=f'pooled backbone features of I and t(I) ({transform})',
        heads=f'f(v_I) and g(v_It) ({transform})')
    for r, dists in results.items():
        entry = dict(
            models={k: summarize(v)
                    for k, v in dists.items()},
            skipped=skipped.get(r, {}))
        if dists:
            png = osp.join(out_dir, f'{name}_{r}.png')
            plot_histograms(dists, png, title=titles[r])
            entry['png'] = png
        summary['representations'][r] = entry
    with open(osp.join(out_dir, f'{name}.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    return summary


def parse_args(argv=None) -> argparse.Namespace:
    """The command line of this tool."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        '--model',
        nargs=3,
        action='append',
        required=True,
        metavar=('LABEL', 'CONFIG', 'CHECKPOINT'),
        help='a model to analyse (repeat); CHECKPOINT "none" for the '
        'untrained network at the config\'s init, "none:standard" or '
        '"none:zero_init" at that one')
    parser.add_argument(
        '--images',
        required=True,
        help='folder of images (searched recursively)')
    parser.add_argument(
        '--transform', default='jigsaw', choices=['jigsaw', 'rotation'])
    parser.add_argument(
        '--repr',
        nargs='+',
        default=['backbone'],
        choices=['backbone', 'heads'])
    parser.add_argument(
        '--img-size',
        type=int,
        default=224,
        help='image size for --repr backbone (rounded down '
        'to a multiple of 3 for jigsaw)')
    parser.add_argument('--max-images', type=int, default=500)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--out-dir', default='work_dirs/invariance')
    parser.add_argument(
        '--name',
        default=None,
        help='file name prefix (default invariance_'
        '<transform>)')
    return parser.parse_args(argv)


def print_summary(summary: dict) -> None:
    """Print the statistics, skipped models and plots of a summary."""
    for r, entry in summary['representations'].items():
        for label, st in entry['models'].items():
            print(f'[{r}] {label}: mean {st["mean"]:.4f}  median '
                  f'{st["median"]:.4f}  std {st["std"]:.4f}  '
                  f'(n={st["num_images"]})')
        for label, why in entry['skipped'].items():
            print(f'[{r}] {label}: skipped ({why})')
        if 'png' in entry:
            print(f'[{r}] plot: {entry["png"]}')


def model_entry(label: str, config: str, checkpoint: str) -> tuple:
    """``(label, config, checkpoint or None, init or None)`` of a
    ``--model``."""
    from pirl_plugin.evaluation.untrained import INITS
    word, _, init = checkpoint.partition(':')
    if word.lower() != 'none':
        return label, config, checkpoint, None
    if init and init not in INITS:
        sys.exit(f'tools/analysis/invariance.py: --model {label}: unknown '
                 f'initialisation in {checkpoint!r}; use none, '
                 'none:standard or none:zero_init')
    return label, config, None, init or None


def main(argv=None) -> dict:
    args = parse_args(argv)
    models = [model_entry(*m) for m in args.model]
    labels = [m[0] for m in models]
    if len(set(labels)) != len(labels):
        sys.exit(f'tools/analysis/invariance.py: labels must be distinct, '
                 f'got {labels}')
    try:
        results, skipped = analyse(models, args.images, args.transform,
                                   args.repr, args.img_size, args.max_images,
                                   args.seed, args.batch_size)
    except ValueError as e:
        sys.exit(f'tools/analysis/invariance.py: {e}')
    meta = dict(
        images=args.images,
        max_images=args.max_images,
        img_size=args.img_size,
        seed=args.seed,
        models={
            label: dict(config=cfg, checkpoint=ckpt, init=init)
            for label, cfg, ckpt, init in models
        })
    summary = write_outputs(results, skipped, args.out_dir, args.name
                            or f'invariance_{args.transform}', args.transform,
                            meta)
    print_summary(summary)
    return summary


if __name__ == '__main__':
    main()
