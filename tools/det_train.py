"""Fine-tune an MMDetection detector from a PIRL backbone.

    python tools/det_train.py CONFIG PRETRAINED [--work-dir DIR] [--amp]
        [--resume [CKPT]] [--cfg-options KEY=VALUE ...] [--launcher pytorch]

``PRETRAINED`` is a backbone checkpoint written by
``tools/model_converters/pirl_to_backbone.py``. It initialises
``model.backbone`` and, for C4 detectors, the res5 RoI head
``model.roi_head.shared_head`` (whose ``layer4.*`` weights come from the same
backbone). Multi-GPU: ``tools/det_dist_train.sh``.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

import pirl_plugin  # noqa: F401  runtime fixes (torch.load allowlist)
from pirl_plugin.utils.atomic_file_backend import ATOMIC_BACKEND
from pirl_plugin.utils.cpu_distributed import shutdown_distributed
from pirl_plugin.utils.launch import (
    add_launcher_args, add_train_args,
    disable_persistent_workers_without_workers, merge_args,
    parse_launcher_args)
from pirl_plugin.utils.resnet_weights import (PREFIX, ConversionError,
                                              get_state_dict,
                                              infer_resnet_depth,
                                              load_checkpoint_file)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train an MMDetection detector from a PIRL backbone')
    parser.add_argument('config', help='detection config file path')
    parser.add_argument(
        'pretrained',
        help='backbone checkpoint from '
        'tools/model_converters/pirl_to_backbone.py')
    add_train_args(
        parser,
        helps={
            '--auto-scale-lr':
            'scale the LR to the actual total batch size (the configs are '
            'for 8 GPUs x 2 images)'
        })
    add_launcher_args(
        parser,
        cfg_options_help='override config settings, key=value pairs (merged '
        'after the pretrained checkpoint is set)')
    return parse_launcher_args(parser, argv)


def check_pretrained(path: str, cfg: Config) -> int:
    """Check that ``path`` is a backbone checkpoint that fits the config.

    Args:
        path (str): the backbone checkpoint.
        cfg (Config): the detection config.

    Returns:
        int: the ResNet depth of the checkpoint.

    Raises:
        ValueError: for a missing or damaged file, a PIRL checkpoint that was
            not converted, or a depth that differs from the config's.
    """
    try:
        state_dict = get_state_dict(load_checkpoint_file(path), path)
        if any(k.startswith(PREFIX) for k in state_dict):
            raise ConversionError(
                f'{path!r} is a full PIRL checkpoint (it has '
                f"'{PREFIX}*' keys), not a backbone checkpoint: convert it "
                'first with python tools/model_converters/'
                f'pirl_to_backbone.py {path} BACKBONE.pth and pass '
                'BACKBONE.pth')
        depth = infer_resnet_depth(state_dict, path)
    except ConversionError as exc:
        raise ValueError(str(exc)) from exc
    cfg_depth = cfg.model.backbone.get('depth')
    if cfg_depth is not None and cfg_depth != depth:
        raise ValueError(
            f'{path!r} holds a ResNet-{depth} but the config builds '
            f'model.backbone.depth={cfg_depth}: pass a ResNet-{cfg_depth} '
            f'checkpoint or set --cfg-options model.backbone.depth={depth} '
            '(and the channel widths of the heads)')
    return depth


def set_pretrained(cfg: Config, path: str) -> List[str]:
    """Point the backbone (and a C4 res5 RoI head) at ``path``.

    Args:
        cfg (Config): the detection config, changed in place.
        path (str): the backbone checkpoint.

    Returns:
        list[str]: the config keys that were set.
    """
    init_cfg = ConfigDict(type='Pretrained', checkpoint=path)
    cfg.model.backbone.init_cfg = init_cfg
    keys = ['model.backbone.init_cfg']
    shared_head = cfg.model.get('roi_head', {}).get('shared_head')
    if shared_head is not None:
        shared_head.init_cfg = ConfigDict(init_cfg)
        keys.append('model.roi_head.shared_head.init_cfg')
    return keys


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'tools/det_train.py: config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    set_pretrained(cfg, osp.abspath(args.pretrained))
    if args.cfg_options is not None:  # e.g. model.backbone.depth=18
        cfg.merge_from_dict(args.cfg_options)
    try:
        check_pretrained(args.pretrained, cfg)
    except ValueError as exc:
        sys.exit(f'tools/det_train.py: error: {exc}')
    # work_dir, --amp, --resume, dataloader flags, CPU gloo launch: as
    # tools/train.py does it (the options are merged already).
    args.cfg_options = None
    cfg = merge_args(cfg, args)
    disable_persistent_workers_without_workers(cfg)
    if args.resume not in (None, 'auto') and not osp.isfile(args.resume):
        sys.exit(f'tools/det_train.py: --resume {args.resume!r}: no such '
                 'checkpoint file')
    # atomic checkpoint writes (the plugin's file backend), unless the config
    # chose a backend or writes elsewhere than local files
    ckpt_hook = cfg.get('default_hooks', {}).get('checkpoint')
    if (ckpt_hook is not None and ckpt_hook.get('backend_args') is None
            and ckpt_hook.get('file_client_args') is None
            and '://' not in str(ckpt_hook.get('out_dir') or cfg.work_dir)):
        ckpt_hook.backend_args = dict(backend=ATOMIC_BACKEND)
    runner = Runner.from_cfg(cfg)
    runner.train()
    shutdown_distributed()


if __name__ == '__main__':
    main()
