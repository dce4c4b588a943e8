"""Random PIRL checkpoints in VISSL's layout, built from the key/shape/dtype
manifest that VISSL 0.1.6's own code produced
(``tests/data/vissl_pirl_layout.json``, ``tests/data/make_vissl_manifest.py``).
"""
import json
import os.path as osp
from typing import Dict, Tuple

import torch

MANIFEST = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'data',
    'vissl_pirl_layout.json')
# values of the non-tensor entries a VISSL checkpoint holds
PLAIN = dict(
    train=True,
    meters=[],
    optimizer={},
    losses=[],
    hooks={},
    num_updates=0,
    phase_idx=799,
    iteration=1000,
    iteration_num=1000,
    train_phase_idx=799)
BANK_ROWS = 'nce_average.'


def manifest() -> dict:
    with open(MANIFEST) as f:
        return json.load(f)


def _random(path: str, shape, dtype: str, rows: int,
            gen: torch.Generator) -> torch.Tensor:
    leaf = path.rsplit('/', 1)[-1]
    if leaf.startswith(BANK_ROWS) and leaf != BANK_ROWS + 'params':
        shape = [rows] + list(shape[1:])
    if leaf.endswith('num_batches_tracked'):
        return torch.randint(1, 10**6, shape, generator=gen)
    if leaf.endswith('running_var'):
        return torch.rand(shape, generator=gen) + 0.5
    if leaf.endswith('memory'):
        return torch.nn.functional.normalize(
            torch.randn(shape, generator=gen), dim=1)
    if leaf.endswith('alias'):
        return torch.randint(0, rows, shape, generator=gen)
    if dtype != 'float32':
        raise ValueError(f'unexpected dtype {dtype} of {path}')
    scale = 0.05 if leaf.endswith('weight') and len(shape) > 1 else 0.5
    return torch.randn(shape, generator=gen) * scale


def make_vissl_checkpoint(arch: str,
                          rows: int = 300,
                          z: float = -1.0,
                          seed: int = 0) -> dict:
    """A checkpoint of VISSL's PIRL ``arch`` with random tensors.

    Args:
        arch (str): a variant of the manifest (``resnet50``,
            ``resnet50_mlphead``, ``resnet50_w2``, ``resnet50_w2_mlphead``).
        rows (int): memory bank rows (the dataset size).
        z (float): the NCE normaliser Z in ``nce_average.params``.
        seed (int): random seed.

    Returns:
        dict: the nested checkpoint; ``loss`` and ``classy_state_dict/loss``
        share their tensors, as in a checkpoint VISSL saved.
    """
    variant = manifest()['variants'][arch]
    gen = torch.Generator().manual_seed(seed)
    ckpt: Dict[str, object] = {
        k: PLAIN[k]
        for k in variant['top_level'] if k not in ('loss', 'classy_state_dict')
    }
    classy = {
        k: PLAIN[k]
        for k in variant['classy_state_dict']
        if k not in ('base_model', 'loss')
    }
    ckpt['classy_state_dict'] = classy
    loss: Dict[str, torch.Tensor] = {}
    for path, (shape, dtype) in variant['tensors'].items():
        parts = path.split('/')
        if parts[0] == 'loss':
            continue  # the same tensors as classy_state_dict/loss
        if parts[1] == 'loss':
            tensor = _random(path, shape, dtype, rows, gen)
            if parts[2] == BANK_ROWS + 'params':
                tensor = torch.tensor(variant['nce_average_params'])
                tensor[2] = z
            loss[parts[2]] = tensor
            continue
        node = ckpt
        for key in parts[:-1]:
            node = node.setdefault(key, {})
        node[parts[-1]] = _random(path, shape, dtype, rows, gen)
    ckpt['classy_state_dict']['base_model']['meta'] = {'trunk': {}}
    ckpt['loss'] = loss
    classy['loss'] = loss
    return ckpt


def flat_tensors(obj, prefix: str = '') -> Dict[str, torch.Tensor]:
    """``{path: tensor}`` of every tensor in a nested dict."""
    out = {}
    if isinstance(obj, torch.Tensor):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            out.update(
                flat_tensors(value, f'{prefix}/{key}' if prefix else str(key)))
    return out


def trunk_and_heads(ckpt: dict) -> Tuple[dict, dict]:
    model = ckpt['classy_state_dict']['base_model']['model']
    return model['trunk'], model['heads']
