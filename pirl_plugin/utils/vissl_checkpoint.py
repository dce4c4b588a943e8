"""PIRL checkpoints of VISSL (the authors' model zoo) and of this plugin,
converted both ways.

VISSL's layout (VISSL 0.1.6; the key manifest with its sources is
``tests/data/vissl_pirl_layout.json``):

* ``classy_state_dict/base_model/model/trunk``: the ResNet, torchvision's
  names under ``_feature_blocks.`` (``vissl/models/trunks/resnext.py``;
  width ``w`` multiplies every channel count, stem included);
* ``classy_state_dict/base_model/model/heads``: ``<head>.<module>.clf.<i>``;
  head 0 runs on the patches (``0.0`` the per-patch MLP, ``0.1`` the
  parameter-free ``siamese_concat_view``, ``0.2`` the 1152 -> 128 layer),
  head 1 on the image (``1.0``); ``clf`` is the ``nn.Sequential`` of
  ``vissl/models/heads/mlp.py``;
* ``loss`` (and ``classy_state_dict/loss``): the state of
  ``NCELossWithMemory`` (``vissl/losses/nce_loss.py``): the bank
  ``nce_average.memory``, ``nce_average.params`` = [num_negatives,
  temperature, Z (-1: not estimated yet), momentum] and the alias-sampler
  tables ``nce_average.multinomial.{prob,alias}``.

Ours: head g is ``transform_neck`` (:class:`PIRLJigsawNeck`), head f is
``neck`` (mmpretrain's ``LinearNeck`` or :class:`PIRLMLPNeck`), the bank is
``memory_bank.bank`` and Z is ``head.z`` (one entry per loss term; VISSL
shares one Z between both terms).
"""
import re
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import torch

from .resnet_weights import (BLOCK_KEY, STEM_KEY, ConversionError,
                             infer_resnet_depth)

TRUNK_PATH = ('classy_state_dict', 'base_model', 'model', 'trunk')
HEADS_PATH = ('classy_state_dict', 'base_model', 'model', 'heads')
TRUNK_PREFIX = '_feature_blocks.'
MEMORY = 'nce_average.memory'
PARAMS = 'nce_average.params'
PROB = 'nce_average.multinomial.prob'
ALIAS = 'nce_average.multinomial.alias'
COUNTERS = ('phase_idx', 'iteration', 'iteration_num', 'train_phase_idx')
WIDTHS = (1, 2)
# the PIRL models of VISSL's zoo (its configs/config/pretrain/pirl/models/)
ARCHS = ('resnet50', 'resnet50_mlphead', 'resnet50_w2', 'resnet50_w2_mlphead')
HEAD_KEY = re.compile(r'^([01])\.([02])\.clf\.(\d+)\.(weight|bias)$')
# (VISSL head, module) -> our module
NECKS = {
    ('0', '0'): 'transform_neck.patch_fc',
    ('0', '2'): 'transform_neck.fc',
    ('1', '0'): 'neck'
}
OUR_KEY = re.compile(r'^(transform_neck\.patch_fc|transform_neck\.fc|neck)'
                     r'\.(?:(fc|mlp|\d+)\.)?(?:(\d+)\.)?(weight|bias)$')


def arch_name(width: int, mlp_head: bool) -> str:
    """VISSL's name of a PIRL model (its ``models/`` config override)."""
    return 'resnet50' + ('_w2' if width == 2 else '') + ('_mlphead'
                                                         if mlp_head else '')


def _get(ckpt: dict, path: Tuple[str, ...], src: str) -> dict:
    node = ckpt
    for i, key in enumerate(path):
        if not isinstance(node, dict) or key not in node:
            have = sorted(map(str, node))[:6] if isinstance(node, dict) else \
                type(node).__name__
            hint = (' It is an MMEngine checkpoint: use it as it is, or '
                    'tools/model_converters/pirl_to_backbone.py'
                    if i == 0 and 'state_dict' in ckpt else '')
            raise ConversionError(
                f'{src!r} is not a VISSL checkpoint: no '
                f"{'/'.join(path[:i + 1])!r} (found {have}).{hint} Pass a "
                'model of VISSL\'s zoo (model_final_checkpoint_*.torch)')
        node = node[key]
    return node


def trunk_to_backbone(trunk: Dict[str, torch.Tensor],
                      src: str) -> Tuple[Dict[str, torch.Tensor], int]:
    """VISSL's ResNet trunk to MMPretrain ``ResNet`` weights.

    Args:
        trunk (dict[str, Tensor]): ``_feature_blocks.*`` weights.
        src (str): the checkpoint, for messages.

    Returns:
        tuple: the backbone weights and the width multiplier (1 or 2).
    """
    backbone = OrderedDict()
    for key, value in trunk.items():
        name = key[len(TRUNK_PREFIX):]
        if not key.startswith(TRUNK_PREFIX) or not (STEM_KEY.match(name)
                                                    or BLOCK_KEY.match(name)):
            raise ConversionError(
                f'the trunk of {src!r} is not a VISSL ResNet: key {key!r} '
                f"is not '{TRUNK_PREFIX}' + a torchvision ResNet name")
        backbone[name] = value
    depth = infer_resnet_depth(backbone, src)
    stem = backbone['conv1.weight'].shape[0]
    width = stem // 64
    if depth != 50 or stem % 64 or width not in WIDTHS:
        raise ConversionError(
            f'the trunk of {src!r} is a ResNet-{depth} with {stem} stem '
            f'channels (width x{stem / 64:g}); the PIRL models of VISSL\'s '
            'zoo, and the configs here, are ResNet-50 and ResNet-50-w2 only')
    return backbone, width


def heads_to_necks(heads: Dict[str, torch.Tensor],
                   src: str) -> Tuple[Dict[str, torch.Tensor], bool]:
    """VISSL's PIRL heads to our ``neck.*`` / ``transform_neck.*``.

    Returns:
        tuple: the neck weights and whether the heads are MLPs.
    """
    layers: Dict[Tuple[str, str], set] = {k: set() for k in NECKS}
    for key in heads:
        m = HEAD_KEY.match(key)
        if not m or (m.group(1), m.group(2)) not in NECKS:
            raise ConversionError(
                f'{src!r} is not a PIRL checkpoint: its heads '
                f'{sorted(heads)[:4]} are not the two PIRL heads (patches: '
                "'0.0.clf.*', '0.2.clf.0.*'; image: '1.0.clf.*'), so it is "
                'a model of another method')
        layers[m.group(1), m.group(2)].add(int(m.group(3)))
    if not all(layers.values()) or layers['0', '2'] != {0} or len(
            layers['0', '0']) != len(layers['1', '0']):
        found = {'.'.join(k): sorted(v) for k, v in layers.items()}
        raise ConversionError(
            f'{src!r}: the PIRL heads are incomplete or mixed (Linear layer '
            f'indices per head module: {found})')
    mlp = len(layers['1', '0']) > 1
    out = OrderedDict()
    for key, value in heads.items():
        h, mod, idx, param = HEAD_KEY.match(key).groups()
        ours = NECKS[h, mod]
        if mlp and ours == 'neck':
            ours = f'neck.mlp.{idx}'
        elif ours == 'neck':
            ours = 'neck.fc'
        elif mlp and mod == '0':
            ours = f'{ours}.{idx}'
        out[f'{ours}.{param}'] = value
    return out, mlp


def necks_to_heads(state_dict: Dict[str, torch.Tensor],
                   src: str) -> Dict[str, torch.Tensor]:
    """Our ``neck.*`` / ``transform_neck.*`` to VISSL's PIRL heads."""
    inverse = {v: '.'.join(k) for k, v in NECKS.items()}
    heads = OrderedDict()
    for key, value in state_dict.items():
        if not key.startswith(('neck.', 'transform_neck.')):
            continue
        m = OUR_KEY.match(key)
        if not m:
            raise ConversionError(
                f'{src!r}: {key!r} has no VISSL counterpart; only the PIRL '
                'heads of configs/_base_/models/pirl_r50*.py convert')
        module, sub, idx, param = m.groups()
        if module == 'neck' and sub in ('fc', 'mlp'):
            i = idx or '0'
        elif module != 'neck' and sub is None:
            i = '0'
        elif module == 'transform_neck.patch_fc' and sub.isdigit():
            i = sub
        else:
            raise ConversionError(f'{src!r}: {key!r} has no VISSL '
                                  'counterpart')
        heads[f'{inverse[module]}.clf.{i}.{param}'] = value
    heads_to_necks(heads, src)  # the same completeness checks
    return heads


def read_vissl(ckpt: dict, src: str) -> dict:
    """The parts of a VISSL PIRL checkpoint that this plugin uses.

    Args:
        ckpt (dict): the loaded checkpoint.
        src (str): its file, for messages.

    Returns:
        dict: ``backbone``, ``necks`` (our names), ``width``, ``mlp``,
        ``arch`` (VISSL's model name), ``loss`` (VISSL's loss state or
        None) and ``counters``.
    """
    if not isinstance(ckpt, dict):
        raise ConversionError(f'{src!r} holds a {type(ckpt).__name__}, not '
                              'a VISSL checkpoint dict')
    backbone, width = trunk_to_backbone(_get(ckpt, TRUNK_PATH, src), src)
    necks, mlp = heads_to_necks(_get(ckpt, HEADS_PATH, src), src)
    loss = ckpt.get('loss') or ckpt['classy_state_dict'].get('loss') or None
    if loss is not None and MEMORY not in loss:
        raise ConversionError(
            f'{src!r}: its loss state {sorted(loss)[:4]} has no memory bank '
            f'({MEMORY!r}): not a PIRL (nce_loss_with_memory) checkpoint')
    return dict(
        backbone=backbone,
        necks=necks,
        width=width,
        mlp=mlp,
        arch=arch_name(width, mlp),
        loss=loss,
        counters={
            k: ckpt[k]
            for k in COUNTERS if isinstance(ckpt.get(k), int)
        })


def vissl_to_ours(parts: dict) -> dict:
    """Our full PIRL checkpoint (``load_from``) from :func:`read_vissl`.

    VISSL-only state (sampler tables, loss parameters, counters) is kept
    under the top-level ``vissl`` entry, which MMEngine ignores, so that
    :func:`ours_to_vissl` restores it bit for bit.
    """
    state = OrderedDict(
        ('backbone.' + k, v) for k, v in parts['backbone'].items())
    state.update(parts['necks'])
    extra = dict(counters=parts['counters'])
    loss = parts['loss']
    if loss is not None:
        z = float(loss[PARAMS][2]) if PARAMS in loss else -1.0
        state['head.z'] = torch.full((2, ), max(z, 0.0), dtype=torch.float64)
        state['memory_bank.bank'] = loss[MEMORY]
        state['memory_bank.num_updates'] = torch.zeros((), dtype=torch.long)
        extra['loss'] = {k: v for k, v in loss.items() if k != MEMORY}
    return dict(state_dict=state, vissl=extra)


def ours_to_vissl(
    state_dict: Dict[str, torch.Tensor],
    src: str,
    extra: Optional[dict] = None,
    params: Tuple[float, float, float] = (32000, 0.07, 0.5)
) -> dict:
    """A VISSL checkpoint (trunk, heads, loss state) from our weights.

    Args:
        state_dict (dict[str, Tensor]): our PIRL model's weights.
        src (str): the checkpoint, for messages.
        extra (dict, optional): the ``vissl`` entry written by
            :func:`vissl_to_ours`; restores VISSL-only state exactly.
        params (tuple): num_negatives, temperature and bank momentum for
            ``nce_average.params`` when ``extra`` has none.

    Returns:
        dict: the checkpoint in VISSL's layout.
    """
    extra = extra or {}
    trunk = OrderedDict((TRUNK_PREFIX + k[len('backbone.'):], v)
                        for k, v in state_dict.items()
                        if k.startswith('backbone.'))
    trunk_to_backbone(trunk, src)  # a ResNet-50 (w1/w2)?
    heads = necks_to_heads(state_dict, src)
    out = {k: extra.get('counters', {}).get(k, 0) for k in COUNTERS}
    classy = dict(
        base_model=dict(
            model=dict(trunk=trunk, heads=heads), meta=dict(trunk={})))
    bank = state_dict.get('memory_bank.bank')
    if bank is not None:
        loss = dict(extra.get('loss', {}))
        n = bank.shape[0]
        z = state_dict.get('head.z', torch.zeros(2))[0].item()
        if PARAMS not in loss:
            negatives, temperature, momentum = params
            loss[PARAMS] = torch.tensor([negatives, temperature, -1, momentum])
        loss[PARAMS] = loss[PARAMS].clone()
        loss[PARAMS][2] = z if z > 0 else -1.0
        if loss.get(PROB) is None or loss[PROB].shape[0] != n:
            # a uniform alias table: every row keeps its own index
            loss[PROB] = torch.ones(n)
            loss[ALIAS] = torch.zeros(n, dtype=torch.long)
        out['loss'] = OrderedDict([(MEMORY, bank.float()),
                                   (PARAMS, loss[PARAMS]), (PROB, loss[PROB]),
                                   (ALIAS, loss[ALIAS])])
        classy['loss'] = out['loss']
    out['classy_state_dict'] = classy
    return out
