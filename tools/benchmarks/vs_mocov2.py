"""End-to-end training throughput: a PIRL iteration against a MoCo v2
iteration (MMPretrain's), data loading included, alternately in one process.

``docs/benchmarks.md`` (vs MoCo v2) describes the models, sizes, timing and
worker isolation, and the results.

    python tools/benchmarks/vs_mocov2.py --size demo
    python tools/benchmarks/vs_mocov2.py --size imagenet --warmup 3 --iters 10
    python tools/benchmarks/vs_mocov2.py --size demo --breakdown
    python tools/benchmarks/vs_mocov2.py --size tiny      # smoke run

Prints ``[vs_mocov2] <size>: PIRL x s/iter, MoCo v2 y s/iter, ratio z``
and writes JSON (``--out``; default ``vs_mocov2_<size>.json``).
"""
import argparse
import json
import os
import os.path as osp
import platform
import signal
import statistics
import sys
import time
from typing import Optional, Tuple

import torch
from mmengine.registry import init_default_scope
from mmengine.utils.dl_utils import set_multi_processing

import pirl_plugin  # noqa: F401
from pirl_plugin.utils.cpu_memory import keep_freed_memory
from pirl_plugin.utils.step_breakdown import breakdown
from pirl_plugin.utils.throughput import (Trainee, alternate, build_trainee,
                                          make_images, mocov2_config,
                                          optim_config, pirl_config)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASE = osp.join(REPO, 'configs', '_base_')
PIRL_MODEL = osp.join(BASE, 'models', 'pirl_r50.py')
PIRL_SCHEDULE = osp.join(BASE, 'schedules', 'pirl_sgd_coslr.py')
TARGET = 1.35

SIZES = {
    'demo':
    dict(
        depth=18,
        batch=64,
        img_size=96,
        jigsaw_crop=96,
        patch_size=28,
        moco_size=96,
        num_negatives=4096,
        bank_size=10000,
        queue_len=4096,
        images='shapes',
        image_px=96,
        num_images=640,
        num_workers=2,
        warmup=3,
        iters=10,
        pirl_data=osp.join(BASE, 'datasets', 'shapes_demo_pirl.py')),
    'imagenet':
    dict(
        depth=50,
        batch=32,
        img_size=224,
        jigsaw_crop=255,
        patch_size=64,
        moco_size=224,
        num_negatives=32000,
        bank_size=1281167,
        queue_len=65536,
        images='imagenet',
        num_images=256,
        num_workers=2,
        warmup=3,
        iters=10,
        pirl_data=osp.join(BASE, 'datasets', 'imagenet_pirl.py')),
    'tiny':
    dict(
        depth=18,
        batch=4,
        img_size=32,
        jigsaw_crop=30,
        patch_size=10,
        moco_size=32,
        num_negatives=64,
        bank_size=256,
        queue_len=64,
        images='shapes',
        image_px=96,
        num_images=20,
        num_workers=1,
        warmup=1,
        iters=2,
        pirl_data=osp.join(BASE, 'datasets', 'shapes_demo_pirl.py')),
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--size', choices=sorted(SIZES), default='demo')
    p.add_argument(
        '--warmup',
        type=int,
        default=None,
        help='untimed iterations of each model first')
    p.add_argument(
        '--iters',
        type=int,
        default=None,
        help='timed iterations of each model')
    p.add_argument(
        '--num-workers',
        type=int,
        default=None,
        help='data-loader workers of each model (same for both)')
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch.set_num_threads for both (default: torch\'s '
        'default, the number of cores)')
    p.add_argument('--batch', type=int, default=None)
    p.add_argument('--num-images', type=int, default=None)
    p.add_argument(
        '--channels-last',
        choices=['none', 'pirl', 'both'],
        default='none',
        help='channels-last memory format: PIRL through its '
        'config flag model.channels_last, MoCo v2 by converting '
        'the built model (default: none, as both ship)')
    p.add_argument(
        '--malloc',
        choices=['keep', 'default'],
        default='keep',
        help="keep: freed memory kept for reuse, as PIRLRunner "
        "does on CPU (pirl_plugin.utils.cpu_memory; one process, "
        "so both models); default: glibc's allocator as it is")
    p.add_argument(
        '--no-isolate-workers',
        action='store_true',
        help='let both loaders\' workers run all the time')
    p.add_argument(
        '--breakdown',
        action='store_true',
        help='also time the parts of one iteration of each')
    p.add_argument('--breakdown-repeat', type=int, default=3)
    p.add_argument('--top-ops', type=int, default=15)
    p.add_argument('--data-dir', default='data/bench_vs_mocov2')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', default=None)
    return p.parse_args(argv)


def resolve_size(args: argparse.Namespace) -> dict:
    """The size's settings with the command line's overrides."""
    s = dict(SIZES[args.size])
    for key in ('batch', 'num_images', 'num_workers', 'warmup', 'iters'):
        if getattr(args, key) is not None:
            s[key] = getattr(args, key)
    return s


def set_up_process(args: argparse.Namespace) -> dict:
    """Threads, allocator and multiprocessing as ``tools/train.py``'s
    runner sets them; what was set, for the JSON."""
    kept = args.malloc == 'keep' and keep_freed_memory()
    if args.threads:
        torch.set_num_threads(args.threads)
    set_multi_processing(mp_start_method='fork', opencv_num_threads=0)
    init_default_scope('mmpretrain')
    return dict(
        size=args.size,
        kept=kept,
        threads=torch.get_num_threads(),
        channels_last=args.channels_last,
        malloc=args.malloc,
        load_before=os.getloadavg())


def build_pair(s: dict, args: argparse.Namespace) -> Tuple[Trainee, Trainee]:
    """PIRL and MoCo v2 at size ``s``, reading the same folder."""
    folder = make_images(s, args.data_dir)
    pcfg, mcfg = pirl_config(s, PIRL_MODEL), mocov2_config(s)
    pcfg['model']['channels_last'] = args.channels_last != 'none'
    optim = optim_config(PIRL_SCHEDULE)
    workers = s['num_workers']
    pirl = build_trainee('PIRL', pcfg, optim, s, folder, workers, args.seed)
    moco = build_trainee('MoCo v2', mcfg, optim, s, folder, workers, args.seed)
    if args.channels_last == 'both':
        moco.model.to(memory_format=torch.channels_last)
    if s['bank_size'] < len(pirl.loader.dataset):
        raise ValueError('the bank must have a row per image')
    return pirl, moco


def time_pair(pirl: Trainee, moco: Trainee, s: dict, isolate: bool,
              args: argparse.Namespace) -> Optional[dict]:
    """Alternate the two, then (``--breakdown``) time their parts; the
    workers are resumed on the way out, on SIGTERM too."""

    def resume_all(*_):
        for t in (pirl, moco):
            t.signal_workers(stop=False)

    old_term = signal.signal(signal.SIGTERM, lambda *a:
                             (resume_all(), sys.exit(143)))
    try:
        alternate(pirl, moco, s['warmup'], s['iters'], isolate)
        if not args.breakdown:
            return None
        return breakdown(pirl, moco, args.breakdown_repeat, args.top_ops,
                         min(64, len(pirl.loader.dataset)))
    finally:
        resume_all()
        signal.signal(signal.SIGTERM, old_term)


def machine(load_before) -> dict:
    """The machine and its load before and after the run."""
    return dict(
        cpus=os.cpu_count(),
        processor=platform.processor(),
        torch=torch.__version__,
        cuda=torch.cuda.is_available(),
        loadavg_1_5_15min_before=load_before,
        loadavg_1_5_15min_after=os.getloadavg())


def summarize(pirl: Trainee, moco: Trainee, s: dict, run: dict) -> dict:
    """The JSON record of the run."""
    med = {t.name: statistics.median(t.total) for t in (pirl, moco)}
    # each PIRL iteration over the MoCo v2 iteration next to it: robust to
    # load that changes during the run (other processes on the cores)
    ratio = statistics.median(a / b for a, b in zip(pirl.total, moco.total))
    pixels = dict(
        pirl=3 * (s['img_size']**2 + 9 * s['patch_size']**2),
        mocov2=3 * s['moco_size']**2 + s['moco_size']**2)
    return dict(
        size=run['size'],
        depth=s['depth'],
        batch=s['batch'],
        pirl_views=dict(
            image=s['img_size'],
            patches=9,
            patch=s['patch_size'],
            jigsaw_crop=s['jigsaw_crop']),
        mocov2_views=dict(query=s['moco_size'], key=s['moco_size']),
        num_negatives=s['num_negatives'],
        bank_size=s['bank_size'],
        queue_len=s['queue_len'],
        loss_type=pirl.model.head.loss_type,
        num_images=len(pirl.loader.dataset),
        num_workers=s['num_workers'],
        isolate_workers=run['isolate'],
        threads=run['threads'],
        warmup=s['warmup'],
        iters=s['iters'],
        pirl_s_per_iter=med['PIRL'],
        mocov2_s_per_iter=med['MoCo v2'],
        ratio=ratio,
        ratio_of_medians=med['PIRL'] / med['MoCo v2'],
        target=TARGET,
        channels_last=run['channels_last'],
        malloc=run['malloc'],
        keep_freed_memory=run['kept'],
        pixel_work_ratio=pixels['pirl'] / pixels['mocov2'],
        pirl_data_wait_s=statistics.median(pirl.data_wait),
        mocov2_data_wait_s=statistics.median(moco.data_wait),
        pirl_step_s=statistics.median(pirl.step),
        mocov2_step_s=statistics.median(moco.step),
        pirl_iter_s=pirl.total,
        mocov2_iter_s=moco.total,
        pirl_pipeline=repr(pirl.loader.dataset.pipeline),
        mocov2_pipeline=repr(moco.loader.dataset.pipeline),
        mocov2_jitter_note=('MMPretrain\'s ColorJitter(0.4, 0.4, 0.4, '
                            'hue=0.1) replaced by PIRLColorJitter with the '
                            'same parameters (numpy 2, docs/setup.md)'),
        machine=machine(run['load_before']),
        date=time.strftime('%Y-%m-%d'))


def report(res: dict, out_path: str) -> None:
    """Write the JSON and print the summary lines."""
    with open(out_path, 'w') as f:
        json.dump(res, f, indent=2)
    bd = res.get('breakdown')
    flops = bd['flops_per_step']['ratio'] if bd else None
    print(f'[vs_mocov2] {res["size"]}: PIRL {res["pirl_s_per_iter"]:.3f} '
          f's/iter, MoCo v2 {res["mocov2_s_per_iter"]:.3f} s/iter, ratio '
          f'{res["ratio"]:.3f}')
    print(f'[vs_mocov2] ratio of the medians '
          f'{res["ratio_of_medians"]:.3f}; work ratio by pixels '
          f'{res["pixel_work_ratio"]:.3f}' +
          (f', by FLOPs {flops:.3f}' if flops else ''))
    print(f'[vs_mocov2] wrote {out_path}')


def main(argv=None) -> dict:
    args = parse_args(argv)
    s = resolve_size(args)
    run = set_up_process(args)
    run['isolate'] = (not args.no_isolate_workers and s['num_workers'] > 0
                      and hasattr(signal, 'SIGSTOP'))
    pirl, moco = build_pair(s, args)
    bd = time_pair(pirl, moco, s, run['isolate'], args)
    res = summarize(pirl, moco, s, run)
    if bd is not None:
        res['breakdown'] = bd
    report(res, args.out or f'vs_mocov2_{args.size}.json')
    return res


if __name__ == '__main__':
    main()
