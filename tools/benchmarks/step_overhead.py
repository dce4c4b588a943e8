"""PIRL step overhead: a full PIRL training step over a bare backbone step.

The full step is what ``PIRL.train_step`` does once the data is in memory
(already normalised tensors): backbone forward of the image views and of
all ``9B`` patches (one batched call), heads f and g, the NCE loss with N
negatives from an ImageNet-size bank, the staged bank update and its
commit, backward and the SGD step. The baseline runs only the same backbone
forward and backward on the same tensors, with a trivial loss (the sum of
the pooled last-stage features); it has no optimiser step. Both are timed
alternately in one process after warm-up, and the ratio of the medians is
reported, per negative-sampling mode.

    python tools/benchmarks/step_overhead.py --depth 50 --batch 32
    python tools/benchmarks/step_overhead.py --depth 18 --shared both

Prints one summary line per mode and writes JSON (``--out``).
"""
import argparse
import json
import os.path as osp
import statistics

import torch

import pirl_plugin  # noqa: F401
from pirl_plugin.utils.benchmarking import (backbone_step, build_pirl,
                                            make_inputs, pirl_step,
                                            pirl_step_settings, timed)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'pirl',
                  'pirl_resnet50_8xb32-coslr-800e_in1k.py')


def parse_args(argv=None) -> argparse.Namespace:
    """The command line of this benchmark."""
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--depth', type=int, default=50, help='ResNet depth')
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--num-negatives', type=int, default=32000)
    p.add_argument('--bank-size', type=int, default=1281167)
    p.add_argument('--loss-type', default='nce', choices=['nce', 'infonce'])
    p.add_argument(
        '--shared',
        choices=['no', 'yes', 'both'],
        default='both',
        help='negatives per data point (no, the paper), one set '
        'per batch (yes), or both')
    p.add_argument('--img-size', type=int, default=224)
    p.add_argument('--patch-size', type=int, default=64)
    p.add_argument('--device', default='cpu')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--repeat', type=int, default=3)
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--out', default='step_overhead.json')
    return p.parse_args(argv)


def measure(args: argparse.Namespace, shared: bool, sync) -> dict:
    """Time PIRL steps against backbone-only steps on one batch.

    Args:
        args (Namespace): the parsed command line.
        shared (bool): one draw of negatives per batch.
        sync (callable): device synchronisation.

    Returns:
        dict: the settings, the step times and their median ratio.
    """
    torch.manual_seed(0)
    model, optim = build_pirl(CONFIG, args.depth, args.bank_size,
                              args.num_negatives, args.loss_type, shared,
                              args.device)
    inputs, samples = make_inputs(args.batch, args.img_size, args.patch_size,
                                  args.bank_size, args.device)
    t_pirl, t_base = [], []
    for i in range(args.warmup + args.repeat):
        a = timed(lambda: pirl_step(model, optim, inputs, samples), sync)
        b = timed(lambda: backbone_step(model, inputs), sync)
        if i >= args.warmup:
            t_pirl.append(a)
            t_base.append(b)
    return dict(
        **pirl_step_settings(args, shared),
        device=args.device,
        threads=torch.get_num_threads(),
        pirl_step_s=t_pirl,
        backbone_step_s=t_base,
        ratio=statistics.median(t_pirl) / statistics.median(t_base))


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    sync = (
        torch.cuda.synchronize if args.device.startswith('cuda') else
        (lambda: None))
    modes = dict(no=[False], yes=[True], both=[False, True])[args.shared]
    results = []
    for shared in modes:
        r = measure(args, shared, sync)
        results.append(r)
        print(
            f"[step_overhead] ResNet-{args.depth} B={args.batch} "
            f"N={args.num_negatives} {args.loss_type} "
            f"{'shared' if shared else 'per-sample'} negatives, "
            f"{args.device}: PIRL step "
            f"{statistics.median(r['pirl_step_s']):.3f} s, backbone-only "
            f"step {statistics.median(r['backbone_step_s']):.3f} s, "
            f"ratio {r['ratio']:.3f}",
            flush=True)
    with open(args.out, 'w') as f:
        json.dump(dict(results=results, torch=torch.__version__), f, indent=2)
    print(f'[step_overhead] wrote {args.out}')


if __name__ == '__main__':
    main()
