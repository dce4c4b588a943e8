"""Train a model: MMPretrain's ``tools/train.py`` (same arguments) with the
PIRL plugin imported and distributed launches on CPU-only machines.

The plugin's behaviour (pre-flight checks, one-line errors, the orderly stop
on SIGTERM/SIGINT, atomic checkpoints, the memory bank) lives in the runner
and hooks the configs select (:class:`pirl_plugin.engine.PIRLRunner`), so
MMPretrain's own ``tools/train.py`` and ``mim train mmpretrain <config>``
train the same way.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import pirl_plugin  # noqa: F401  registers the components
from pirl_plugin.utils.cpu_distributed import shutdown_distributed
from pirl_plugin.utils.launch import (add_launcher_args, add_train_args,
                                      merge_args, parse_launcher_args)

__all__ = ['main', 'merge_args', 'parse_args']


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    add_train_args(parser)
    add_launcher_args(parser)
    return parse_launcher_args(parser, argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Train. The runner's messages name the program and build the continue
    command from ``sys.argv``."""
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'tools/train.py: config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    # --cfg-options, work_dir, --resume, ...; gloo on a CPU-only machine
    cfg = merge_args(cfg, args)

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:  # the plugin's configs: pirl_plugin.engine.PIRLRunner
        runner = RUNNERS.build(cfg)

    runner.train()
    shutdown_distributed()


if __name__ == '__main__':
    main()
