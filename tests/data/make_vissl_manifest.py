"""Write ``vissl_pirl_layout.json``: the key/shape/dtype manifest of PIRL
checkpoints as VISSL writes them, built with VISSL's own code.

Not a test and not part of the package: it needs VISSL 0.1.6 (the PyPI
wheel, which bundles classy_vision) importable next to this project's torch.
How it was run (Python 3.11, torch 2.14.1, 2026-12-06)::

    pip download --no-deps vissl==0.1.6 -d /tmp/vissl_dl
    mkdir /tmp/vissl_src && cd /tmp/vissl_src && unzip ../vissl_dl/*.whl
    # torchvision 0.29 has no video datasets: drop classy_vision's three
    # video dataset modules (classy_{hmdb51,kinetics400,ucf101}.py and
    # their imports in classy_vision/dataset/__init__.py)
    python -m venv /tmp/vissl_venv   # + a .pth with this project's
    #   site-packages and /tmp/vissl_src
    /tmp/vissl_venv/bin/pip install hydra-core omegaconf fvcore iopath \\
        tabulate parameterized
    /tmp/vissl_venv/bin/python tests/data/make_vissl_manifest.py

For each PIRL model of VISSL's zoo it composes the released config
(``pretrain/pirl/pirl_jigsaw_4node_resnet50`` plus the ``models/``
override), builds the model with ``vissl.models.build_model`` and the loss
with ``classy_vision.losses.build_loss`` (300 training samples), and
assembles the checkpoint dict the way VISSL's CheckpointHook does
(``vissl/hooks/log_hooks.py`` 446-453 of the wheel): top-level ``loss``
(``task.loss.state_dict()``) and ``classy_state_dict`` (ClassyTask's
``get_classy_state``, ``classy_vision/tasks/classification_task.py``
947-967, whose ``base_model`` is ``BaseSSLMultiInputOutputModel.
get_classy_state``, ``vissl/models/base_ssl_model.py`` 395-428).
"""
import json
import os.path as osp
import sys

import torch

VARIANTS = {
    'resnet50': None,
    'resnet50_mlphead': 'resnet50_mlphead',
    'resnet50_w2': 'resnet50_w2',
    'resnet50_w2_mlphead': 'resnet50_w2_mlphead',
}
NUM_TRAIN_SAMPLES = 300
OUT = osp.join(osp.dirname(osp.abspath(__file__)), 'vissl_pirl_layout.json')


def build(models_override):
    import vissl.losses  # noqa: F401  registers nce_loss_with_memory
    from classy_vision.losses import build_loss
    from vissl.models import build_model
    from vissl.utils.hydra_config import (compose_hydra_configuration,
                                          convert_to_attrdict)
    overrides = [
        'config=pretrain/pirl/pirl_jigsaw_4node_resnet50',
        'config.LOSS.nce_loss_with_memory.num_train_samples='
        f'{NUM_TRAIN_SAMPLES}'
    ]
    if models_override:
        overrides.append(f'+config/pretrain/pirl/models={models_override}')
    _, config = convert_to_attrdict(compose_hydra_configuration(overrides))
    model = build_model(config.MODEL, config.OPTIMIZER)
    loss_config = config.LOSS['nce_loss_with_memory']
    loss_config['name'] = 'nce_loss_with_memory'
    loss = build_loss(loss_config)
    return model, loss, config


def checkpoint_content(model, loss):
    """The dict VISSL's CheckpointHook saves (optimizer/meters empty)."""
    classy_state_dict = {
        'train': True,
        'base_model': model.get_classy_state(),
        'meters': [],
        'optimizer': {},
        'phase_idx': 0,
        'train_phase_idx': 0,
        'num_updates': 0,
        'losses': [],
        'hooks': {},
        'loss': loss.get_classy_state(),
    }
    return {
        'phase_idx': 0,
        'iteration': 0,
        'loss': loss.state_dict(),
        'iteration_num': 0,
        'train_phase_idx': 0,
        'classy_state_dict': classy_state_dict,
    }


def flatten(obj, prefix=''):
    """``{dotted path: [shape, dtype]}`` of every tensor in ``obj``."""
    out = {}
    if isinstance(obj, torch.Tensor):
        out[prefix] = [list(obj.shape), str(obj.dtype).replace('torch.', '')]
    elif isinstance(obj, dict):
        for key, value in obj.items():
            sub = f'{prefix}/{key}' if prefix else str(key)
            out.update(flatten(value, sub))
    return out


def main():
    manifest = dict(
        vissl_version='0.1.6 (PyPI wheel vissl-0.1.6-py3-none-any.whl)',
        command='python tests/data/make_vissl_manifest.py',
        num_train_samples=NUM_TRAIN_SAMPLES,
        path_separator='/',
        variants={})
    for name, override in VARIANTS.items():
        model, loss, config = build(override)
        content = checkpoint_content(model, loss)
        params = loss.state_dict()['nce_average.params'].tolist()
        manifest['variants'][name] = dict(
            models_override=override,
            head_params=json.loads(json.dumps(config.MODEL.HEAD.PARAMS)),
            loss_type=config.LOSS.nce_loss_with_memory.loss_type,
            nce_average_params=params,
            top_level=sorted(content),
            classy_state_dict=sorted(content['classy_state_dict']),
            tensors=flatten(content))
        print(name, len(manifest['variants'][name]['tensors']), 'tensors')
    with open(OUT, 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write('\n')
    print('wrote', OUT)


if __name__ == '__main__':
    sys.exit(main())
