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
        work_dirs/pirl_r50_8xb32-200e_imagenet/epoch_200.pth \\
        checkpoints/pirl_r50_backbone.pth
    python tools/model_converters/pirl_to_backbone.py \\
        work_dirs/pirl_r50_8xb32-200e_imagenet/epoch_200.pth \\
        checkpoints/pirl_r50_torchvision.pth --format torchvision
"""
import argparse
import os
import os.path as osp
import pickle
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

import pirl_plugin  # noqa: F401  allowlists MMEngine checkpoint classes
from pirl_plugin.utils.checkpoints import describe_state_dict

PREFIX = 'backbone.'
FORMATS = ('mmpretrain', 'torchvision')

# depth -> (bottleneck?, blocks per stage), as in torchvision and MMPretrain.
RESNET_ARCHS = {
    18: (False, (2, 2, 2, 2)),
    34: (False, (3, 4, 6, 3)),
    50: (True, (3, 4, 6, 3)),
    101: (True, (3, 4, 23, 3)),
    152: (True, (3, 8, 36, 3)),
}

_STEM_KEY = re.compile(r'^(conv1|bn1)\.(weight|bias|running_mean|running_var|'
                       r'num_batches_tracked)$')
_BLOCK_KEY = re.compile(r'^layer([1-4])\.(\d+)\.(conv[123]|bn[123]|'
                        r'downsample\.[01])\.(weight|bias|running_mean|'
                        r'running_var|num_batches_tracked)$')


class ConversionError(RuntimeError):
    """A checkpoint that cannot be converted; the message says why."""


def load_checkpoint_file(path: str) -> dict:
    """Load a checkpoint on the CPU with ``torch.load``'s safe defaults.

    Args:
        path (str): the checkpoint file.

    Returns:
        dict: the loaded object (an MMEngine checkpoint is a dict with
        ``state_dict`` and ``meta``).

    Raises:
        ConversionError: when the file is missing, truncated or not a
            PyTorch checkpoint.
    """
    if not osp.isfile(path):
        raise ConversionError(f'checkpoint file {path!r} not found')
    try:
        ckpt = torch.load(path, map_location='cpu')  # weights_only default
    except pickle.UnpicklingError as exc:
        raise ConversionError(
            f'cannot load checkpoint {path!r} with torch.load(weights_only='
            f'True): {exc}. Only MMEngine/PyTorch checkpoints of tensors, '
            'dicts and the MMEngine classes that pirl_plugin allowlists are '
            'accepted; pass a checkpoint written by tools/train.py') from exc
    except Exception as exc:  # zip/EOF/format errors of a damaged file
        raise ConversionError(
            f'cannot read checkpoint {path!r} '
            f'({osp.getsize(path)} bytes): {type(exc).__name__}: {exc}. The '
            'file is truncated or not a PyTorch checkpoint: copy it again or '
            'pick another one (e.g. an earlier epoch_N.pth of the same work '
            'directory)') from exc
    if not isinstance(ckpt, dict):
        raise ConversionError(
            f'checkpoint {path!r} holds a {type(ckpt).__name__}, not a dict '
            'with a state_dict: it is not a PIRL checkpoint')
    return ckpt


def get_state_dict(ckpt: dict, path: str) -> Dict[str, torch.Tensor]:
    """The model weights of a checkpoint (MMEngine's ``state_dict`` entry or
    a bare state dict), without a DDP ``module.`` prefix.

    Args:
        ckpt (dict): the loaded checkpoint.
        path (str): its file, for error messages.

    Returns:
        dict[str, Tensor]: the weights.
    """
    state_dict = ckpt.get('state_dict', ckpt)
    if not isinstance(state_dict, dict) or not state_dict:
        raise ConversionError(
            f'checkpoint {path!r} has no model weights (its state_dict is '
            'empty or not a dict): it is not a PIRL checkpoint')
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state_dict.items())


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
    backbone = OrderedDict((k[len(PREFIX):], v)
                           for k, v in state_dict.items()
                           if k.startswith(PREFIX))
    if not backbone:
        examples = ', '.join(repr(k) for k in list(state_dict)[:4])
        hint = ''
        if _looks_like_resnet(state_dict):
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


def _looks_like_resnet(state_dict: Dict[str, torch.Tensor]) -> bool:
    return 'conv1.weight' in state_dict and any(
        k.startswith('layer1.') for k in state_dict)


def infer_resnet_depth(backbone: Dict[str, torch.Tensor], path: str) -> int:
    """The ResNet depth (18/34/50/101/152) that these weights belong to.

    Args:
        backbone (dict[str, Tensor]): backbone weights without prefix.
        path (str): the checkpoint file, for error messages.

    Returns:
        int: the depth.
    """
    blocks = [0, 0, 0, 0]
    for key in backbone:
        m = _BLOCK_KEY.match(key)
        if m:
            stage, block = int(m.group(1)) - 1, int(m.group(2))
            blocks[stage] = max(blocks[stage], block + 1)
    bottleneck = 'layer1.0.conv3.weight' in backbone
    for depth, arch in RESNET_ARCHS.items():
        if arch == (bottleneck, tuple(blocks)):
            return depth
    raise ConversionError(
        f'the backbone of {path!r} is not a plain ResNet-18/34/50/101/152 '
        f'(blocks per stage {blocks}, bottleneck={bottleneck}, e.g. keys '
        f'{list(backbone)[:3]}). This converter supports MMPretrain '
        "backbones of type='ResNet' only.")


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
        if _STEM_KEY.match(key) or _BLOCK_KEY.match(key):
            out[key] = value  # same name in both layouts
        else:
            unknown.append(key)
    if unknown:
        raise ConversionError(
            f'the backbone of {path!r} has keys with no torchvision ResNet '
            f'counterpart: {unknown[:5]}. Only plain ResNets (no deep stem, '
            'no plugins) convert to --format torchvision.')
    return out


def _load_strictly(model: torch.nn.Module, state_dict: Dict[str, torch.Tensor],
                   target: str, path: str) -> None:
    result = model.load_state_dict(state_dict, strict=False)
    problems = []
    if result.missing_keys:
        problems.append(f'missing {result.missing_keys[:5]}')
    if result.unexpected_keys:
        problems.append(f'unexpected {result.unexpected_keys[:5]}')
    if problems:
        raise ConversionError(
            f'the converted backbone of {path!r} does not load strictly into '
            f'{target}: ' + '; '.join(problems))


def verify_mmpretrain(backbone: Dict[str, torch.Tensor], depth: int,
                      path: str) -> str:
    """Load the weights strictly into MMPretrain's ``ResNet(depth)``.

    Returns:
        str: a description of the target model.
    """
    from mmpretrain.models.backbones import ResNet
    target = f'mmpretrain ResNet(depth={depth})'
    try:
        _load_strictly(ResNet(depth=depth), backbone, target, path)
    except RuntimeError as exc:  # shape mismatches
        if isinstance(exc, ConversionError):
            raise
        raise ConversionError(f'{path!r}: {target}: {exc}') from exc
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
    try:
        _load_strictly(model, state_dict, target, path)
    except RuntimeError as exc:
        if isinstance(exc, ConversionError):
            raise
        raise ConversionError(f'{path!r}: {target}: {exc}') from exc
    return target


def _plain_meta(src: str, meta: Optional[dict], depth: int,
                fmt: str) -> dict:
    """Provenance for the output; only plain types, so that the output
    loads with ``torch.load(weights_only=True)`` anywhere."""
    out = dict(
        converted_from=osp.abspath(src),
        converter='tools/model_converters/pirl_to_backbone.py',
        algorithm='PIRL',
        arch=f'resnet{depth}',
        format=fmt)
    for key in ('epoch', 'iter', 'seed', 'experiment_name',
                'mmengine_version', 'time'):
        value = (meta or {}).get(key)
        if isinstance(value, (str, int, float)):
            out[f'pirl_{key}'] = value
    return out


def convert(src: str, dst: str, fmt: str = 'mmpretrain',
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
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = f'{dst}.tmp{os.getpid()}'
    torch.save(out, tmp)
    os.replace(tmp, dst)  # never leave a half-written output behind
    return dict(depth=depth, num_kept=len(backbone), dropped=dropped,
                target=target, dst=dst)


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
