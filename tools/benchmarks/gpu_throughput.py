"""GPU training throughput: PIRL against a supervised ResNet step.

Images per second of a full PIRL training step (the ImageNet config: image
view at 224 plus nine 64x64 patches in one batched backbone call, heads f
and g, NCE with N negatives from an ImageNet-size bank, bank update,
backward, SGD) against a plain supervised ``ImageClassifier`` step (same
ResNet, one 224 view, linear 1000-way head, cross-entropy, SGD), both with
MMEngine's ``AmpOptimWrapper`` (what ``tools/train.py --amp`` uses) and the
channels-last memory format, on the same GPU, in blocks of steps measured
alternately in one process after warm-up. Data is already on the device, so
this is the model's cost, not the data loader's (see data_pipeline.py).

The pixel ratio alone allows PIRL about 224^2 / (224^2 + 9 * 64^2) = 0.58 of
the supervised images per second; the target is >= 0.55.

    python tools/benchmarks/gpu_throughput.py               # R50, B=32, GPU
    python tools/benchmarks/gpu_throughput.py --batch 64 --no-channels-last

It refuses to run without a GPU unless ``--device cpu`` is given (a smoke
run: the figures then say nothing about GPUs). Prints a one-line summary
and writes JSON (``--out``).
"""
import argparse
import json
import os.path as osp
import statistics
import sys
from typing import Callable, Tuple

import torch
from mmengine.optim import build_optim_wrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import pirl_plugin  # noqa: F401
from pirl_plugin.utils.benchmarking import (build_pirl, make_inputs, pirl_step,
                                            pirl_step_settings, timed)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'pirl',
                  'pirl_resnet50_8xb32-coslr-800e_in1k.py')


def build_supervised(depth: int, num_classes: int, device: str, amp: bool,
                     channels_last: bool):
    """A supervised ResNet classifier and its SGD wrapper (the PIRL
    config's optimiser settings, so both steps do the same optimiser
    work per parameter)."""
    width = 2048 if depth >= 50 else 512
    model = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='ResNet', depth=depth, out_indices=(3, )),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=num_classes,
                in_channels=width,
                loss=dict(type='CrossEntropyLoss')))).to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    model.train()
    optim = build_optim_wrapper(
        model,
        dict(
            type='AmpOptimWrapper' if amp else 'OptimWrapper',
            optimizer=dict(
                type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4)))
    return model, optim


def supervised_step(model, optim, images, samples) -> None:
    with optim.optim_context(model):
        losses = model.loss(images, samples)
    loss, _ = model.parse_losses(losses)
    optim.update_params(loss)


def parse_args(argv=None) -> argparse.Namespace:
    """The command line of this benchmark."""
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--depth', type=int, default=50, help='ResNet depth')
    p.add_argument('--batch', type=int, default=32, help='images per step')
    p.add_argument('--num-negatives', type=int, default=32000)
    p.add_argument('--bank-size', type=int, default=1281167)
    p.add_argument('--loss-type', default='nce', choices=['nce', 'infonce'])
    p.add_argument(
        '--shared-negatives',
        action='store_true',
        help='one draw of negatives per batch (default: per '
        'data point, the paper)')
    p.add_argument('--img-size', type=int, default=224)
    p.add_argument('--patch-size', type=int, default=64)
    p.add_argument('--num-classes', type=int, default=1000)
    p.add_argument('--no-amp', action='store_true', help='float32 steps')
    p.add_argument('--no-channels-last', action='store_true')
    p.add_argument('--device', default='cuda')
    p.add_argument(
        '--warmup',
        type=int,
        default=10,
        help='steps of each kind before timing')
    p.add_argument(
        '--steps', type=int, default=20, help='steps per timed block')
    p.add_argument(
        '--rounds',
        type=int,
        default=3,
        help='alternating blocks of each kind')
    p.add_argument('--out', default='gpu_throughput.json')
    return p.parse_args(argv)


def check_device(args: argparse.Namespace) -> Tuple[bool, bool, Callable]:
    """Refuse a missing GPU or AMP off CUDA; set up cuDNN.

    Args:
        args (Namespace): the parsed command line.

    Returns:
        tuple: ``(amp, channels_last, sync)`` with ``sync`` the device
        synchronisation before a clock read.
    """
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        sys.exit('gpu_throughput: no CUDA device is visible (torch '
                 f'{torch.__version__}, cuda {torch.version.cuda}); run it on '
                 'a GPU machine, or pass --device cpu for a smoke run')
    amp = not args.no_amp
    if amp and not args.device.startswith('cuda'):
        sys.exit('gpu_throughput: AmpOptimWrapper needs a CUDA device; pass '
                 '--no-amp with --device cpu')
    channels_last = not args.no_channels_last
    if args.device.startswith('cuda'):
        torch.backends.cudnn.benchmark = True
        return amp, channels_last, torch.cuda.synchronize
    return amp, channels_last, (lambda: None)


def build_steps(args: argparse.Namespace, amp: bool,
                channels_last: bool) -> Tuple[Callable, Callable]:
    """Build both models and one batch each; return their step functions.

    Args:
        args (Namespace): the parsed command line.
        amp (bool): use ``AmpOptimWrapper``.
        channels_last (bool): channels-last models and inputs.

    Returns:
        tuple: ``(pirl_one_step, supervised_one_step)`` closures.
    """
    torch.manual_seed(0)
    pirl, pirl_optim = build_pirl(
        CONFIG,
        args.depth,
        args.bank_size,
        args.num_negatives,
        args.loss_type,
        args.shared_negatives,
        args.device,
        amp=amp,
        channels_last=channels_last)
    views, pirl_samples = make_inputs(args.batch, args.img_size,
                                      args.patch_size, args.bank_size,
                                      args.device)
    sup, sup_optim = build_supervised(args.depth, args.num_classes,
                                      args.device, amp, channels_last)
    images = views[0].clone()
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    g = torch.Generator().manual_seed(1)
    labels = torch.randint(args.num_classes, (args.batch, ), generator=g)
    sup_samples = [DataSample().set_gt_label(int(y)) for y in labels]
    return ((lambda: pirl_step(pirl, pirl_optim, views, pirl_samples)),
            (lambda: supervised_step(sup, sup_optim, images, sup_samples)))


def time_blocks(args: argparse.Namespace, pirl_one: Callable,
                sup_one: Callable, sync: Callable) -> Tuple[list, list]:
    """Warm up, then time alternating blocks of PIRL and supervised steps.

    Args:
        args (Namespace): ``warmup``, ``steps`` and ``rounds``.
        pirl_one (callable): one PIRL step.
        sup_one (callable): one supervised step.
        sync (callable): device synchronisation.

    Returns:
        tuple[list, list]: seconds per PIRL block and per supervised block.
    """

    def run_pirl():
        for _ in range(args.steps):
            pirl_one()

    def run_sup():
        for _ in range(args.steps):
            sup_one()

    for _ in range(args.warmup):
        pirl_one()
        sup_one()
    t_pirl, t_sup = [], []
    for _ in range(args.rounds):
        t_pirl.append(timed(run_pirl, sync))
        t_sup.append(timed(run_sup, sync))
    return t_pirl, t_sup


def summarise(args: argparse.Namespace, amp: bool, channels_last: bool,
              t_pirl: list, t_sup: list) -> dict:
    """The JSON result of a run.

    Args:
        args (Namespace): the parsed command line.
        amp (bool): whether AMP was on.
        channels_last (bool): whether channels-last was on.
        t_pirl (list): seconds per PIRL block.
        t_sup (list): seconds per supervised block.

    Returns:
        dict: settings, block times, images per second and their ratio.
    """
    ips_pirl = args.batch * args.steps / statistics.median(t_pirl)
    ips_sup = args.batch * args.steps / statistics.median(t_sup)
    device_name = (
        torch.cuda.get_device_name(args.device)
        if args.device.startswith('cuda') else 'cpu')
    return dict(
        **pirl_step_settings(args, args.shared_negatives),
        amp=amp,
        channels_last=channels_last,
        device=device_name,
        steps_per_block=args.steps,
        pirl_block_s=t_pirl,
        supervised_block_s=t_sup,
        pirl_images_per_s=ips_pirl,
        supervised_images_per_s=ips_sup,
        ratio=ips_pirl / ips_sup,
        peak_memory_gib=(torch.cuda.max_memory_allocated(args.device) /
                         2**30 if args.device.startswith('cuda') else None),
        torch=torch.__version__)


def main(argv=None):
    args = parse_args(argv)
    amp, channels_last, sync = check_device(args)
    pirl_one, sup_one = build_steps(args, amp, channels_last)
    t_pirl, t_sup = time_blocks(args, pirl_one, sup_one, sync)
    result = summarise(args, amp, channels_last, t_pirl, t_sup)
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=2)
    print(f'[gpu_throughput] ResNet-{args.depth} B={args.batch} '
          f'N={args.num_negatives} amp={amp} channels_last={channels_last} '
          f'on {result["device"]}: PIRL {result["pirl_images_per_s"]:.1f} '
          f'img/s, supervised {result["supervised_images_per_s"]:.1f} img/s, '
          f'ratio {result["ratio"]:.3f} (target >= 0.55)')
    print(f'[gpu_throughput] wrote {args.out}')
    return result


if __name__ == '__main__':
    main()
