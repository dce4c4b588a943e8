"""Evaluate a pre-trained checkpoint like the paper, in one command.

Reads the backbone's shape from the checkpoint (or ``--config``), converts
it once to a backbone checkpoint, runs every task of the suite file whose
data is present (detection, linear classification, VOC07 SVM, Places205,
iNat18, per-layer, semi-supervised), one after another, and writes
``eval_suite.{json,md,png}``: each paper table with our figure, the paper's
PIRL and Jigsaw figures and the difference. Run the same command again to
continue after a failure or Ctrl-C: finished tasks are not re-run.

Examples::

    python tools/eval_suite.py work_dirs/pirl/epoch_800.pth \\
        --launcher pytorch --gpus 8
    python tools/eval_suite.py work_dirs/pirl/epoch_800.pth \\
        --launcher slurm --partition PARTITION --gpus 8 --tasks det,linear
"""
import argparse
import sys
from typing import List, Optional

from mmengine.config import DictAction

import pirl_plugin  # noqa: F401  allowlists MMEngine checkpoint classes
from pirl_plugin.evaluation.suite import Launch, SuiteError, run_suite
from pirl_plugin.utils.resnet_weights import ConversionError


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help='PIRL (or backbone) checkpoint')
    parser.add_argument('--work-dir', default='work_dirs/eval_suite')
    parser.add_argument('--suite', default='configs/benchmarks/eval_suite.py')
    parser.add_argument(
        '--tasks',
        type=lambda s: [t for t in s.split(',') if t],
        help='comma-separated task names of the suite file (default: all)')
    parser.add_argument(
        '--config',
        help='the pre-training config (default: the '
        "architecture is read from the checkpoint's weights)")
    parser.add_argument(
        '--data-root',
        nargs='+',
        action=DictAction,
        default={},
        help='data roots, NAME=PATH (imagenet, places205, inat18, voc)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    parser.add_argument('--gpus', type=int, default=1)
    parser.add_argument('--partition', help='Slurm partition')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='settings merged into every task config, key=value')
    args = parser.parse_args(argv)
    if args.launcher == 'slurm' and not args.partition:
        parser.error('--launcher slurm needs --partition')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    launch = Launch(args.launcher, args.gpus, args.partition)
    try:
        return run_suite(args.checkpoint, args.work_dir, args.suite,
                         args.tasks, args.config, args.data_root, launch,
                         args.cfg_options)
    except (SuiteError, ConversionError) as exc:
        sys.exit(f'eval_suite.py: error: {exc}')


if __name__ == '__main__':
    sys.exit(main())
