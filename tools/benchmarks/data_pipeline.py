"""Data-pipeline throughput: PIRL's training pipeline against MMPretrain's
MoCo v2 two-view pipeline, on the same JPEG files, in one process (what one
data-loader worker does).

The PIRL pipeline is ``train_pipeline`` of
``configs/_base_/datasets/imagenet_pirl.py`` (load, 224 image view + nine
64x64 jigsaw patches with per-patch jitter, pack); ``pirl-vissl`` is the
exact-VISSL pipeline of
``configs/pirl/pirl_resnet50_32xb32-coslr-800e_in1k.py`` (the same with
Pillow's antialiased resize of the two crops). The MoCo v2
pipeline is
``train_pipeline`` of MMPretrain's own
``configs/_base_/datasets/imagenet_bs32_mocov2.py`` (load, two 224 views with
crop, jitter, greyscale, blur, flip, pack). As shipped it cannot run under
numpy 2: its ``ColorJitter`` with ``hue=0.1`` raises ``OverflowError`` in
mmcv's ``adjust_hue`` (docs/setup.md), so it is measured in two
runnable variants: ``mocov2-hue0`` (MMPretrain's ColorJitter, hue 0: cheaper
than the real MoCo v2, so the ratio against it is conservative) and
``mocov2-pirljitter`` (the same jitter parameters through this project's
PIRLColorJitter).

JPEGs of ImageNet-like sizes (shorter side 333-500, quality 90, smooth
random content) are generated into ``--data-dir`` unless present. The
pipelines are run alternately, one full pass over the files each per round,
after a warm-up pass; the median seconds per image is reported.

    python tools/benchmarks/data_pipeline.py
    python tools/benchmarks/data_pipeline.py --num-images 100 --rounds 5
"""
import argparse
import json
import os.path as osp
import statistics
import time

import cv2
import numpy as np
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import init_default_scope

import pirl_plugin  # noqa: F401
from pirl_plugin.utils.benchmarking import (make_jpegs, pirl_jitter,
                                            replace_jitter)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PIRL_CFG = osp.join(REPO, 'configs', '_base_', 'datasets', 'imagenet_pirl.py')
VISSL_CFG = osp.join(REPO, 'configs', 'pirl',
                     'pirl_resnet50_32xb32-coslr-800e_in1k.py')


def mocov2_config() -> str:
    import mmpretrain
    path = osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'configs', '_base_',
        'datasets', 'imagenet_bs32_mocov2.py')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'MMPretrain\'s MoCo v2 dataset config not found at {path}; '
            'is mmpretrain 1.2.0 installed from its wheel?')
    return path


def build_pipelines() -> dict:
    init_default_scope('mmpretrain')
    pirl = Config.fromfile(PIRL_CFG).train_pipeline
    vissl = Config.fromfile(VISSL_CFG).train_dataloader.dataset.pipeline
    moco = Config.fromfile(mocov2_config()).train_pipeline
    moco = [dict(t) for t in moco]
    hue0 = replace_jitter(
        moco, lambda j, p: dict(
            type='RandomApply', prob=p, transforms=[dict(j, hue=0.0)]))
    ours = replace_jitter(moco, pirl_jitter)
    return {
        'pirl': Compose([dict(t) for t in pirl]),
        'pirl-vissl': Compose([dict(t) for t in vissl]),
        'mocov2-hue0': Compose(hue0),
        'mocov2-pirljitter': Compose(ours),
    }


def run_pass(pipe, files) -> float:
    t = time.perf_counter()
    for i, f in enumerate(files):
        out = pipe(dict(img_path=f, sample_idx=i))
        assert out is not None and 'inputs' in out
    return (time.perf_counter() - t) / len(files)


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data-dir', default='data/bench_jpegs')
    p.add_argument('--num-images', type=int, default=64)
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', default='data_pipeline.json')
    args = p.parse_args(argv)
    cv2.setNumThreads(1)  # one worker = one core
    np.random.seed(args.seed)
    files = make_jpegs(args.data_dir, args.num_images)
    pipes = build_pipelines()
    for pipe in pipes.values():  # warm-up pass
        run_pass(pipe, files[:8])
    times = {k: [] for k in pipes}
    for _ in range(args.rounds):
        for name, pipe in pipes.items():
            times[name].append(run_pass(pipe, files))
    med = {k: statistics.median(v) for k, v in times.items()}
    res = dict(
        num_images=len(files),
        rounds=args.rounds,
        seconds_per_image=med,
        images_per_second={k: 1 / v
                           for k, v in med.items()},
        ratio_pirl_over={
            k: med['pirl'] / v
            for k, v in med.items() if k != 'pirl'
        },
        ratio_pirl_vissl_over={
            k: med['pirl-vissl'] / v
            for k, v in med.items() if k.startswith('mocov2')
        },
        per_round=times)
    for name, v in med.items():
        print(f'[data_pipeline] {name}: {1 / v:.1f} images/s per worker '
              f'({v * 1e3:.1f} ms/image)')
    for k, r in res['ratio_pirl_over'].items():
        print(f'[data_pipeline] PIRL cost per image / {k}: {r:.3f}')
    for k, r in res['ratio_pirl_vissl_over'].items():
        print(f'[data_pipeline] exact-VISSL PIRL cost per image / {k}: '
              f'{r:.3f}')
    with open(args.out, 'w') as f:
        json.dump(res, f, indent=2)
    print(f'[data_pipeline] wrote {args.out}')


if __name__ == '__main__':
    main()
