"""Load and check checkpoints with clear errors (never arbitrary unpickling).

``torch.load`` keeps ``weights_only=True``: a checkpoint may contain only
tensors, plain containers and the MMEngine classes allowlisted by
:func:`pirl_plugin.utils.compat.mmengine_checkpoint_safe_globals`.
"""
import logging
import os.path as osp
import pickle
import re
import zipfile
from typing import Dict, Optional

import torch
from torch import nn


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used; the message names the file and
    says what was expected."""


def describe_state_dict(state_dict: Dict[str, object]) -> str:
    """A guess of what model a state dict belongs to, for messages."""
    keys = list(state_dict)
    if any(k.endswith('memory_bank.bank') for k in keys):
        return 'a PIRL model'
    if any(
            k.startswith(('roi_head.', 'rpn_head.', 'bbox_head.'))
            for k in keys):
        return 'an MMDetection detector'
    if any(k.startswith('head.fc.') for k in keys):
        return 'a supervised classifier (MMPretrain ImageClassifier)'
    if 'conv1.weight' in keys and 'fc.weight' in keys:
        return 'a torchvision ResNet'
    if 'conv1.weight' in keys:
        return 'a backbone-only checkpoint'
    return 'a model of another algorithm'


def load_checkpoint(path: str, mmap: bool = False) -> object:
    """``torch.load(path, weights_only=True)`` on the CPU, with clear errors.

    Args:
        path (str): a local checkpoint file.
        mmap (bool): memory-map the tensors instead of reading them (cheap
            inspection of a large checkpoint; zip-format files only).

    Returns:
        object: what the file holds.

    Raises:
        CheckpointError: missing, truncated or damaged file, or pickled
            objects outside the allowlist (which would execute code).
    """
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint file {path!r} not found')
    size = osp.getsize(path)
    try:
        return torch.load(
            path,
            map_location='cpu',
            weights_only=True,
            mmap=mmap and zipfile.is_zipfile(path))
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()
        # torch's own text suggests weights_only=False: quote only the
        # line that names the refused global.
        reason = next((line for line in first
                       if 'unsupported' in line.lower() or 'refusing' in line),
                      'an unsupported global')
        raise CheckpointError(
            f'refusing to load checkpoint {path!r}: it contains pickled '
            f'objects outside the allowlist ({reason.strip()}). Unpickling '
            'them could execute arbitrary code, so the file is not loaded '
            '(weights_only stays on). Use only checkpoints written by '
            'tools/train.py, from a source you trust') from exc
    except Exception as exc:  # noqa: BLE001  zip/EOF/format errors
        raise CheckpointError(
            f'cannot read checkpoint {path!r} ({size} bytes): '
            f'{type(exc).__name__}: {exc}. The file is truncated or not a '
            'PyTorch checkpoint (was the run killed while writing it, or '
            'the copy interrupted?): copy it again or use an earlier '
            'checkpoint of the same work directory') from exc


def check_resume_checkpoint(path: str,
                            expect_memory_bank: bool = True) -> dict:
    """Check that ``path`` is a training checkpoint ``--resume`` can use.

    The tensors are memory-mapped, not read, so this is cheap even for an
    ImageNet-size bank.

    Args:
        path (str): the checkpoint file.
        expect_memory_bank (bool): require a PIRL memory bank
            (``memory_bank.bank``) in the state dict.

    Returns:
        dict: ``epoch``, ``iter`` and ``bank_shape`` (or None).

    Raises:
        CheckpointError: naming the file and what was expected.
    """
    ckpt = load_checkpoint(path, mmap=True)
    expected = ('--resume needs a checkpoint written by tools/train.py with '
                'this config (work_dir/epoch_N.pth or iter_N.pth)')
    if not isinstance(ckpt, dict) or not isinstance(
            ckpt.get('state_dict'), dict):
        what = (f'a dict with keys {sorted(map(str, ckpt))[:6]}' if isinstance(
            ckpt, dict) else f'a {type(ckpt).__name__}')
        raise CheckpointError(
            f'{path!r} is not a training checkpoint: it holds {what}, without '
            f"a 'state_dict' entry. {expected}; to initialise weights from "
            'another file use load_from or the backbone\'s init_cfg')
    state = ckpt['state_dict']
    meta = ckpt.get('meta')
    bank_key = next((k for k in state if k.endswith('memory_bank.bank')), None)
    if expect_memory_bank and bank_key is None:
        examples = ', '.join(repr(k) for k in list(state)[:3])
        raise CheckpointError(
            f'{path!r} is not a PIRL checkpoint: its state_dict has no memory '
            f'bank (memory_bank.bank); it looks like '
            f'{describe_state_dict(state)} (keys such as {examples}). '
            f'{expected}; to start PIRL from other weights use load_from or '
            'the backbone\'s init_cfg instead of --resume')
    if not isinstance(meta, dict) or 'epoch' not in meta or 'iter' not in meta:
        raise CheckpointError(
            f'{path!r} has no training state (meta.epoch / meta.iter): it is '
            f'a weights-only file, not a training checkpoint. {expected}; '
            'use load_from to initialise the weights from it instead')
    bank_shape: Optional[tuple] = None
    if bank_key is not None:
        bank_shape = tuple(state[bank_key].shape)
    return dict(epoch=meta['epoch'], iter=meta['iter'], bank_shape=bank_shape)


def load_weights(module: nn.Module, checkpoint: str, prefix: str = '') -> dict:
    """Load the weights of ``module`` from a checkpoint: the one loader of
    the evaluation tools, the kNN monitor's tests and the demo.

    Reads the file with MMEngine's ``load_checkpoint`` (``weights_only``
    with the allowlist of :mod:`pirl_plugin.utils.compat`), the keys renamed
    by ``revise_keys=[('^' + prefix, '')]``. Keys of the checkpoint outside
    ``module`` (e.g. ``neck.*`` and ``memory_bank.bank`` of a PIRL
    checkpoint loaded into its backbone) are ignored; every weight of
    ``module`` must be in the checkpoint.

    Args:
        module (nn.Module): what to load into.
        checkpoint (str): a ``.pth`` file: a training checkpoint
            (``state_dict`` entry) or a bare state dict.
        prefix (str): key prefix of ``module`` in the checkpoint, e.g.
            ``'backbone.'``; keys without it are used as they are (a
            backbone-only file). Defaults to '' (the whole model).

    Returns:
        dict: the checkpoint.

    Raises:
        FileNotFoundError: no such file.
        KeyError: weights of ``module`` missing from the checkpoint.
    """
    from mmengine.runner import load_checkpoint as mmengine_load_checkpoint
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'checkpoint {checkpoint!r} not found: pass the .pth written by '
            'PIRL pre-training (tools/train.py work_dir/epoch_N.pth)')
    revise = [(f'^{re.escape(prefix)}', '')] if prefix else []
    # The keys outside `module` are expected (strict=False): keep MMEngine's
    # list of them off the console; missing keys are checked below.
    quiet = logging.getLogger('pirl_plugin.load_weights')
    quiet.setLevel(logging.ERROR)
    ckpt = mmengine_load_checkpoint(
        module,
        checkpoint,
        map_location='cpu',
        strict=False,
        logger=quiet,
        revise_keys=revise)
    state = ckpt.get('state_dict', ckpt)
    loaded = set(state)
    for pattern, repl in revise:
        loaded = {re.sub(pattern, repl, k) for k in loaded}
    missing = sorted(set(module.state_dict()) - loaded)
    if missing:
        raise KeyError(
            f'{checkpoint!r} does not hold the weights of this model: '
            f'{len(missing)} keys are missing (e.g. {missing[:3]}); it looks '
            f'like {describe_state_dict(state)}. Check that the checkpoint '
            f'has {prefix!r}-prefixed weights of the same architecture as '
            'the config (e.g. model.backbone.depth).')
    return ckpt
