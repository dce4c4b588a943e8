"""Evaluate a fine-tuned detector on VOC07 test and print AP / AP50 / AP75.

    python tools/det_test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--cfg-options KEY=VALUE ...] [--launcher pytorch]

``CHECKPOINT`` is a detector checkpoint written by ``tools/det_train.py``
(e.g. ``work_dirs/<config>/iter_25000.pth``). With the configs in
``configs/benchmarks/mmdetection/voc0712`` the metric is VOC07's 11-point AP
at the ten IoU thresholds 0.50:0.05:0.95; AP is their mean (COCO-style).
"""
import argparse
import os.path as osp
import re
import sys
from typing import Dict, List, Optional

from mmengine.config import Config
from mmengine.dist import get_rank
from mmengine.runner import Runner

import pirl_plugin  # noqa: F401  runtime fixes (torch.load allowlist)
from pirl_plugin.utils.cpu_distributed import (setup_cpu_distributed,
                                               shutdown_distributed)
from pirl_plugin.utils.launch import (
    add_launcher_args, disable_persistent_workers_without_workers,
    parse_launcher_args, set_work_dir)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test a detector on VOC07 test (AP, AP50, AP75)')
    parser.add_argument('config', help='detection config file path')
    parser.add_argument('checkpoint', help='detector checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs')
    add_launcher_args(
        parser, cfg_options_help='override config settings, key=value pairs')
    return parse_launcher_args(parser, argv)


def summarize_voc_metrics(metrics: Dict[str, float]) -> str:
    """Format VOCMetric's results as the paper's AP / AP50 / AP75 row.

    Args:
        metrics (dict[str, float]): what ``Runner.test`` returns, e.g.
            ``{'pascal_voc/mAP': 0.54, 'pascal_voc/AP50': 0.807, ...}``,
            fractions in [0, 1].

    Returns:
        str: a small table in percent. ``AP`` is the mean over the IoU
        thresholds the metric used (COCO-style when they are 0.50:0.95).
    """
    per_iou = {}
    mean = None
    for key, value in metrics.items():
        name = key.split('/')[-1]
        m = re.fullmatch(r'AP(\d\d)', name)
        if m:
            per_iou[int(m.group(1))] = float(value)
        elif name == 'mAP':
            mean = float(value)
    if mean is None or not per_iou:
        return f'no VOC mAP in the test metrics: {metrics}'
    thrs = sorted(per_iou)
    coco_style = thrs == list(range(50, 100, 5))
    label = 'AP' if coco_style else f'mAP@{thrs[0]}:{thrs[-1]}'
    cols = [(label, mean)] + [(f'AP{t}', per_iou[t])
                              for t in (50, 75) if t in per_iou]
    head = ' | '.join(f'{n:>8}' for n, _ in cols)
    row = ' | '.join(f'{100 * v:8.1f}' for _, v in cols)
    note = ('AP = mean over IoU 0.50:0.95' if coco_style else
            f'mean over IoU thresholds {[t / 100 for t in thrs]}')
    return f'VOC07 test ({note}):\n{head}\n{row}'


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'tools/det_test.py: config file {args.config!r} not found')
    if not osp.isfile(args.checkpoint):
        sys.exit(f'tools/det_test.py: checkpoint {args.checkpoint!r} not '
                 'found: pass a detector checkpoint written by '
                 'tools/det_train.py (work_dirs/<config>/iter_N.pth)')
    cfg = Config.fromfile(args.config)
    # All weights come from the detector checkpoint: never load the
    # pre-training checkpoint named in the config.
    cfg.model.backbone.init_cfg = None
    if cfg.model.get('roi_head', {}).get('shared_head') is not None:
        cfg.model.roi_head.shared_head.init_cfg = None
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    cfg.load_from = args.checkpoint
    disable_persistent_workers_without_workers(cfg, ['test_dataloader'])
    import torch
    if args.launcher != 'none' and not torch.cuda.is_available():
        setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if get_rank() == 0:
        print(summarize_voc_metrics(metrics), flush=True)
    shutdown_distributed()


if __name__ == '__main__':
    main()
