"""Reading ResNet weights out of PIRL and backbone checkpoints, shared by
the converter (``tools/model_converters/pirl_to_backbone.py``) and the
detection launcher (``tools/det_train.py``)."""
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict

import torch

from .checkpoints import CheckpointError, load_checkpoint

PREFIX = 'backbone.'

# depth -> (bottleneck?, blocks per stage), as in torchvision and MMPretrain.
RESNET_ARCHS = {
    18: (False, (2, 2, 2, 2)),
    34: (False, (3, 4, 6, 3)),
    50: (True, (3, 4, 6, 3)),
    101: (True, (3, 4, 23, 3)),
    152: (True, (3, 8, 36, 3)),
}

STEM_KEY = re.compile(r'^(conv1|bn1)\.(weight|bias|running_mean|running_var|'
                      r'num_batches_tracked)$')
BLOCK_KEY = re.compile(r'^layer([1-4])\.(\d+)\.(conv[123]|bn[123]|'
                       r'downsample\.[01])\.(weight|bias|running_mean|'
                       r'running_var|num_batches_tracked)$')


class ConversionError(RuntimeError):
    """A checkpoint that cannot be converted; the message says why."""


def load_checkpoint_file(path: str) -> dict:
    """Load a checkpoint dict on the CPU with
    :func:`pirl_plugin.utils.checkpoints.load_checkpoint` (``weights_only``,
    the MMEngine allowlist, one-line errors).

    Args:
        path (str): the checkpoint file.

    Returns:
        dict: the loaded object (an MMEngine checkpoint is a dict with
        ``state_dict`` and ``meta``).

    Raises:
        ConversionError: when the file is missing, truncated, not a
            PyTorch checkpoint, holds pickled objects outside the allowlist
            or is not a dict.
    """
    try:
        ckpt = load_checkpoint(path)
    except CheckpointError as exc:
        raise ConversionError(str(exc)) from exc
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


def looks_like_resnet(state_dict: Dict[str, torch.Tensor]) -> bool:
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
        m = BLOCK_KEY.match(key)
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


def load_strictly(model: torch.nn.Module, state_dict: Dict[str, torch.Tensor],
                  target: str, path: str) -> None:
    """Load ``state_dict`` into ``model`` and raise one
    :class:`ConversionError` naming ``path`` and ``target`` for missing or
    unexpected keys and for shape mismatches.

    Args:
        model (nn.Module): the network the weights must fit.
        state_dict (dict[str, Tensor]): the weights.
        target (str): a description of ``model`` for the message.
        path (str): the checkpoint file, for the message.
    """
    try:
        result = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise ConversionError(f'{path!r}: {target}: {exc}') from exc
    problems = []
    if result.missing_keys:
        problems.append(f'missing {result.missing_keys[:5]}')
    if result.unexpected_keys:
        problems.append(f'unexpected {result.unexpected_keys[:5]}')
    if problems:
        raise ConversionError(
            f'the converted backbone of {path!r} does not load strictly into '
            f'{target}: ' + '; '.join(problems))


def save_checkpoint(obj: object, dst: str) -> None:
    """``torch.save`` to a temporary file next to ``dst``, then rename it:
    never leaves a half-written output behind.

    Args:
        obj (object): what to save.
        dst (str): the output file; its folder is created.
    """
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = f'{dst}.tmp{os.getpid()}'
    torch.save(obj, tmp)
    os.replace(tmp, dst)
