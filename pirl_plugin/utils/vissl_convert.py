"""File-level conversion between VISSL's PIRL checkpoints and ours, shared
by ``tools/model_converters/vissl_to_pirl.py`` and ``pirl_to_vissl.py``
(the key maps are in :mod:`pirl_plugin.utils.vissl_checkpoint`)."""
import os.path as osp
from typing import Dict, Optional

import torch

from .resnet_weights import (ConversionError, get_state_dict,
                             load_checkpoint_file, load_strictly,
                             save_checkpoint)
from .vissl_checkpoint import ARCHS, ours_to_vissl, read_vissl, vissl_to_ours

# VISSL model name -> our pre-training config of the same architecture
CONFIGS = {
    'resnet50':
    'configs/pirl/pirl_resnet50_8xb32-coslr-800e_in1k.py',
    'resnet50_mlphead':
    'configs/pirl/pirl_resnet50_8xb32-mlphead-coslr-800e_in1k.py',
    'resnet50_w2':
    'configs/pirl/pirl_resnet50w128_8xb32-coslr-400e_in1k.py',
    'resnet50_w2_mlphead':
    'configs/pirl/pirl_resnet50w128_8xb32-mlphead-coslr-400e_in1k.py',
}


def build_backbone(width: int) -> torch.nn.Module:
    """MMPretrain's ResNet-50 with every channel count times ``width``
    (VISSL's ``WIDTH_MULTIPLIER``: stem and stages alike)."""
    from mmpretrain.models.backbones import ResNet
    return ResNet(depth=50, stem_channels=64 * width, base_channels=64 * width)


def _check_paths(src: str, *dsts: Optional[str]) -> None:
    if not any(dsts):
        raise ConversionError('nothing to write: pass --backbone and/or '
                              '--full (vissl_to_pirl) or an output file')
    for dst in dsts:
        if dst and osp.abspath(dst) == osp.abspath(src):
            raise ConversionError(f'refusing to overwrite the input {src!r}: '
                                  'choose another output path')


def convert_from_vissl(src: str,
                       backbone_dst: Optional[str] = None,
                       full_dst: Optional[str] = None,
                       arch: Optional[str] = None) -> dict:
    """Convert a VISSL PIRL checkpoint into our backbone and/or full model.

    Args:
        src (str): VISSL checkpoint (``model_final_checkpoint_*.torch``).
        backbone_dst (str, optional): output backbone checkpoint
            (``{'state_dict', 'meta'}``, MMPretrain/MMDetection ``ResNet``).
        full_dst (str, optional): output PIRL model checkpoint for
            ``load_from`` (backbone, heads f and g, Z and the bank).
        arch (str, optional): the expected VISSL model (one of ``ARCHS``);
            a checkpoint of another architecture is refused.

    Returns:
        dict: ``arch``, ``config`` (ours of the same architecture),
        ``bank_shape`` (or None), ``num_backbone`` and the outputs.
    """
    _check_paths(src, backbone_dst, full_dst)
    if arch is not None and arch not in ARCHS:
        raise ConversionError(f'--arch must be one of {ARCHS}, got {arch!r}')
    parts = read_vissl(load_checkpoint_file(src), src)
    if arch is not None and parts['arch'] != arch:
        raise ConversionError(
            f'{src!r} holds a PIRL {parts["arch"]} (ResNet-50 width '
            f'x{parts["width"]}, {"MLP" if parts["mlp"] else "linear"} '
            f'heads), not {arch}: pass --arch {parts["arch"]} and use '
            f'{CONFIGS[parts["arch"]]}')
    width = parts['width']
    load_strictly(
        build_backbone(width), parts['backbone'],
        f'mmpretrain ResNet(depth=50, base_channels={64 * width})', src)
    meta = dict(
        converted_from=osp.abspath(src),
        converter='tools/model_converters/vissl_to_pirl.py',
        algorithm='PIRL',
        vissl_arch=parts['arch'],
        config=CONFIGS[parts['arch']])
    if backbone_dst:
        save_checkpoint(
            dict(state_dict=parts['backbone'], meta=meta), backbone_dst)
    if full_dst:
        full = vissl_to_ours(parts)
        full['meta'] = meta
        save_checkpoint(full, full_dst)
    bank = parts['loss']['nce_average.memory'] if parts[
        'loss'] is not None else None
    return dict(
        arch=parts['arch'],
        config=CONFIGS[parts['arch']],
        bank_shape=None if bank is None else tuple(bank.shape),
        num_backbone=len(parts['backbone']),
        outputs=[d for d in (backbone_dst, full_dst) if d])


def convert_to_vissl(src: str,
                     dst: str,
                     num_negatives: int = 32000,
                     temperature: float = 0.07,
                     momentum: float = 0.5) -> Dict[str, object]:
    """Convert our PIRL checkpoint (a training checkpoint or the output of
    :func:`convert_from_vissl` with ``full_dst``) into VISSL's layout.

    Args:
        src (str): our checkpoint.
        dst (str): the VISSL checkpoint to write.
        num_negatives, temperature, momentum: ``nce_average.params`` for a
            checkpoint that did not come from VISSL (the values of its
            config; defaults: the paper's).

    Returns:
        dict: ``arch`` and ``bank_shape`` (or None).
    """
    _check_paths(src, dst)
    ckpt = load_checkpoint_file(src)
    state = get_state_dict(ckpt, src)
    out = ours_to_vissl(state, src, ckpt.get('vissl'),
                        (num_negatives, temperature, momentum))
    parts = read_vissl(out, src)  # the same checks as a VISSL input
    save_checkpoint(out, dst)
    bank = state.get('memory_bank.bank')
    return dict(
        arch=parts['arch'],
        bank_shape=None if bank is None else tuple(bank.shape))
