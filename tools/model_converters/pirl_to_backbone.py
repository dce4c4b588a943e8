"""Convert a PIRL checkpoint into a backbone checkpoint for transfer.

A PIRL checkpoint written by MMEngine holds the whole self-supervised model
(``backbone.*``, the heads ``neck.*`` and ``transform_neck.*``, the NCE
state ``head.z`` and the memory bank ``memory_bank.bank``) plus the
optimiser and message-hub state. Transfer only needs the ResNet: this script
keeps the ``backbone.*`` tensors, strips the prefix, checks that they load
strictly into the target network and writes them in one of two layouts:

* ``mmpretrain`` (default): ``{'state_dict': ..., 'meta': ...}`` with keys
  such as ``conv1.weight`` and ``layer1.0.bn1.running_mean``. MMDetection's
  and MMPretrain's ``ResNet`` load it with
  ``init_cfg=dict(type='Pretrained', checkpoint=...)``.
* ``torchvision``: a plain ``state_dict`` in the layout of
  ``torchvision.models.resnet50`` (and 18/34/101/152), without ``fc.*`` (PIRL
  has no classifier): load it with ``strict=False`` or after setting
  ``model.fc = torch.nn.Identity()``.

Examples::

    python tools/model_converters/pirl_to_backbone.py \\
        work_dirs/pirl_resnet50_8xb32-coslr-200e_in1k/epoch_200.pth \\
        checkpoints/pirl_r50_backbone.pth
    python tools/model_converters/pirl_to_backbone.py \\
        work_dirs/pirl_resnet50_8xb32-coslr-200e_in1k/epoch_200.pth \\
        checkpoints/pirl_r50_torchvision.pth --format torchvision
"""
import argparse
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

import pirl_plugin  # noqa: F401  allowlists MMEngine checkpoint classes
from pirl_plugin.utils.checkpoints import describe_state_dict
from pirl_plugin.utils.resnet_weights import (BLOCK_KEY, PREFIX, STEM_KEY,
                                              ConversionError, get_state_dict,
                                              infer_resnet_depth,
                                              load_checkpoint_file,
                                              load_strictly, looks_like_resnet,
                                              save_checkpoint)

FORMATS = ('mmpretrain', 'torchvision')


def split_backbone(state_dict: Dict[str, torch.Tensor],
                   path: str) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Keep the ``backbone.*`` tensors, without the prefix.

    Args:
        state_dict (dict[str, Tensor]): the PIRL model's weights.
        path (str): the checkpoint file, for error messages.

    Returns:
        tuple: the backbone weights and the sorted list of dropped keys
        (heads, memory bank, anything else outside the backbone).
    """
    backbone = OrderedDict((k[len(PREFIX):], v) for k, v in state_dict.items()
                           if k.startswith(PREFIX))
    if not backbone:
        examples = ', '.join(repr(k) for k in list(state_dict)[:4])
        hint = ''
        if looks_like_resnet(state_dict):
            hint = (' It looks like a backbone-only ResNet checkpoint already'
                    ': use it directly (init_cfg=dict(type=\'Pretrained\', '
                    'checkpoint=...)).')
        raise ConversionError(
            f'{path!r} is not a PIRL checkpoint: its state_dict has no '
            f"'{PREFIX}*' keys (it starts with {examples}).{hint} Pass a "
            'checkpoint written by tools/train.py with a PIRL config.')
    dropped = sorted(k for k in state_dict if not k.startswith(PREFIX))
    return backbone, dropped


def check_pirl(state_dict: Dict[str, torch.Tensor], path: str) -> None:
    """Refuse a checkpoint of another algorithm (a supervised classifier,
    a detector, ...) whose ``backbone.*`` weights would otherwise be
    converted and labelled as PIRL features.

    Args:
        state_dict (dict[str, Tensor]): the checkpoint's weights.
        path (str): the checkpoint file, for error messages.
    """
    if any(k.endswith('memory_bank.bank') for k in state_dict):
        return
    examples = ', '.join(repr(k) for k in list(state_dict)[:3])
    raise ConversionError(
        f'{path!r} is not a PIRL checkpoint: it has no memory bank '
        f'(memory_bank.bank) and looks like {describe_state_dict(state_dict)}'
        f' (keys such as {examples}). Pass a checkpoint written by '
        'tools/train.py with a PIRL config, or add --any-algorithm to '
        "extract the 'backbone.*' weights of another model anyway.")


def to_torchvision(backbone: Dict[str, torch.Tensor],
                   path: str) -> Dict[str, torch.Tensor]:
    """Rename MMPretrain ResNet keys to torchvision's ResNet layout.

    The two layouts name the stem ``conv1``/``bn1`` and every block
    ``layerN.M.{conv1..3, bn1..3, downsample.0, downsample.1}`` alike, so
    the map is the identity on the keys of a plain ResNet; any other key
    (a deep stem, plugins) has no torchvision counterpart and is an error.

    Args:
        backbone (dict[str, Tensor]): MMPretrain ResNet weights.
        path (str): the checkpoint file, for error messages.

    Returns:
        dict[str, Tensor]: the weights under torchvision's names.
    """
    out = OrderedDict()
    unknown = []
    for key, value in backbone.items():
        if STEM_KEY.match(key) or BLOCK_KEY.match(key):
            out[key] = value  # same name in both layouts
        else:
            unknown.append(key)
    if unknown:
        raise ConversionError(
            f'the backbone of {path!r} has keys with no torchvision ResNet '
            f'counterpart: {unknown[:5]}. Only plain ResNets (no deep stem, '
            'no plugins) convert to --format torchvision.')
    return out


def verify_mmpretrain(backbone: Dict[str, torch.Tensor], depth: int,
                      path: str) -> str:
    """Load the weights strictly into MMPretrain's ``ResNet(depth)`` of
    the weights' widths (``stem_channels``, ``base_channels``).

    Returns:
        str: a description of the target model.
    """
    from mmpretrain.models.backbones import ResNet
    widths = {
        name: int(backbone[key].shape[0]) if key in backbone else 64
        for name, key in (('stem_channels', 'conv1.weight'),
                          ('base_channels', 'layer1.0.conv1.weight'))
    }
    target = f'mmpretrain ResNet(depth={depth})'
    if widths != dict(stem_channels=64, base_channels=64):
        target = (f'mmpretrain ResNet(depth={depth}, stem_channels='
                  f'{widths["stem_channels"]}, base_channels='
                  f'{widths["base_channels"]})')
    load_strictly(ResNet(depth=depth, **widths), backbone, target, path)
    return target


def verify_torchvision(state_dict: Dict[str, torch.Tensor], depth: int,
                       path: str) -> str:
    """Load the weights strictly into ``torchvision.models.resnet{depth}``
    whose classifier ``fc`` is replaced by ``Identity``.

    Returns:
        str: a description of the target model.
    """
    import torchvision
    target = f'torchvision resnet{depth} (fc=Identity)'
    model = getattr(torchvision.models, f'resnet{depth}')(weights=None)
    model.fc = torch.nn.Identity()
    load_strictly(model, state_dict, target, path)
    return target


def _plain_meta(src: str, meta: Optional[dict], depth: int, fmt: str) -> dict:
    """Provenance for the output; only plain types, so that the output
    loads with ``torch.load(weights_only=True)`` anywhere."""
    out = dict(
        converted_from=osp.abspath(src),
        converter='tools/model_converters/pirl_to_backbone.py',
        algorithm='PIRL',
        arch=f'resnet{depth}',
        format=fmt)
    for key in ('epoch', 'iter', 'seed', 'experiment_name', 'mmengine_version',
                'time'):
        value = (meta or {}).get(key)
        if isinstance(value, (str, int, float)):
            out[f'pirl_{key}'] = value
    return out


def convert(src: str,
            dst: str,
            fmt: str = 'mmpretrain',
            any_algorithm: bool = False) -> dict:
    """Convert the PIRL checkpoint ``src`` into a backbone checkpoint.

    Args:
        src (str): PIRL checkpoint written by MMEngine.
        dst (str): output file.
        fmt (str): ``'mmpretrain'`` (MMDetection/MMPretrain ``ResNet``) or
            ``'torchvision'``.
        any_algorithm (bool): accept a checkpoint without a PIRL memory
            bank (another self-supervised model). Defaults to False.

    Returns:
        dict: ``depth``, ``num_kept``, ``dropped`` (keys), ``target``
        (the model the output was verified on) and ``dst``.
    """
    if fmt not in FORMATS:
        raise ConversionError(f'--format must be one of {FORMATS}, got '
                              f'{fmt!r}')
    if osp.abspath(src) == osp.abspath(dst):
        raise ConversionError(f'refusing to overwrite the input {src!r}: '
                              'choose another output path')
    ckpt = load_checkpoint_file(src)
    state_dict = get_state_dict(ckpt, src)
    backbone, dropped = split_backbone(state_dict, src)
    if not any_algorithm:
        check_pirl(state_dict, src)
    depth = infer_resnet_depth(backbone, src)
    meta = _plain_meta(src, ckpt.get('meta'), depth, fmt)
    if any_algorithm and not any(
            k.endswith('memory_bank.bank') for k in state_dict):
        meta['algorithm'] = 'unknown (--any-algorithm)'
    if fmt == 'mmpretrain':
        target = verify_mmpretrain(backbone, depth, src)
        out = dict(state_dict=backbone, meta=meta)
    else:
        backbone = to_torchvision(backbone, src)
        target = verify_torchvision(backbone, depth, src)
        out = backbone
    save_checkpoint(out, dst)
    return dict(
        depth=depth,
        num_kept=len(backbone),
        dropped=dropped,
        target=target,
        dst=dst)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Extract the ResNet backbone of a PIRL checkpoint for '
        'MMDetection/MMPretrain (default) or torchvision.')
    parser.add_argument('src', help='PIRL checkpoint (from tools/train.py)')
    parser.add_argument('dst', help='output backbone checkpoint')
    parser.add_argument(
        '--format',
        choices=FORMATS,
        default='mmpretrain',
        help="'mmpretrain': {'state_dict', 'meta'} for init_cfg="
        "dict(type='Pretrained') in MMDetection/MMPretrain; 'torchvision': "
        'a plain torchvision ResNet state dict (without fc)')
    parser.add_argument(
        '--any-algorithm',
        action='store_true',
        help='also convert checkpoints without a PIRL memory bank (the '
        "'backbone.*' weights of another self-supervised model)")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        info = convert(args.src, args.dst, args.format, args.any_algorithm)
    except ConversionError as exc:
        sys.exit(f'pirl_to_backbone: error: {exc}')
    print(f'dropped {len(info["dropped"])} keys that are not part of the '
          'backbone:')
    for key in info['dropped']:
        print(f'  {key}')
    print(f'kept {info["num_kept"]} backbone tensors (ResNet-{info["depth"]})'
          f', verified by strict loading into {info["target"]}')
    print(f'wrote {args.format} backbone checkpoint to {info["dst"]}')


if __name__ == '__main__':
    main()
