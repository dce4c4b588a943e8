"""The ImageNet configs against the authors' released config
(docs/authors_recipe.md): optimiser groups, schedule and view pipeline, as
MMEngine builds them."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS, TRANSFORMS

import pirl_plugin  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PIRL_IN1K = 'configs/pirl/pirl_resnet50_8xb32-coslr-800e_in1k.py'
PRETRAIN = [
    PIRL_IN1K,
    'configs/pirl/pirl_resnet50_8xb32-coslr-200e_in1k.py',
    'configs/pirl/pirl-rotation_resnet50_8xb32-neg4096-coslr-400e_in1k.py',
    'configs/jigsaw/jigsaw_resnet50_8xb32-coslr-90e_in1k.py',
    'configs/rotation/rotation_resnet50_8xb32-coslr-90e_in1k.py',
    'configs/pirl/pirl_resnet18w16_1xb64-coslr-20e_shapes-demo.py',
]


def _small(cfg):
    """The config's model with a small bank and no pretrained weights."""
    mcfg = copy.deepcopy(cfg.model)
    if 'memory_bank' in mcfg:
        mcfg.memory_bank.num_samples = 40
        mcfg.head.num_negatives = 8
    mcfg.pop('init_cfg', None)
    return MODELS.build(mcfg)


@pytest.mark.parametrize('path', PRETRAIN)
def test_no_weight_decay_on_bn_and_bias(path):
    """The authors' regularize_bn: False, regularize_bias: False; weight
    decay 1e-4 on conv and linear weights, through MMEngine's optimiser
    constructor from the config itself."""
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(REPO, path))
    model = _small(cfg)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            decay[id(p)] = group['weight_decay']
    base = cfg.optim_wrapper.optimizer.weight_decay
    assert base == 1e-4
    seen = set()
    for name, module in model.named_modules():
        for pname, p in module.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            seen.add(type(module).__name__)
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm) \
                    or pname == 'bias':
                assert decay[id(p)] == 0.0, f'{name}.{pname}'
            else:
                assert decay[id(p)] == base, f'{name}.{pname}'
    assert {'Conv2d', 'BatchNorm2d'} <= seen


def test_schedule_is_the_authors():
    cfg = Config.fromfile(osp.join(REPO, PIRL_IN1K))
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum) == ('SGD', 0.03, 0.9)
    assert not opt.get('nesterov', False)
    sched, = cfg.param_scheduler
    assert sched.type == 'CosineAnnealingLR'
    assert sched.eta_min_ratio == 1e-3  # 0.12 -> 0.00012
    # update_interval: epoch
    assert sched.by_epoch and not sched.get('convert_to_iter_based', False)
    assert cfg.train_cfg.max_epochs == 800
    assert cfg.auto_scale_lr.base_batch_size == 256
    assert cfg.train_dataloader.batch_size == 32


def test_imagenet_pipeline_is_the_authors():
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(REPO, PIRL_IN1K))
    views = [
        t for t in cfg.train_pipeline if t['type'] == 'PIRLJigsawTransform'
    ]
    t = TRANSFORMS.build(views[0])
    assert (t.img_size, t.jigsaw_crop_size, t.patch_size,
            t.grid_size) == (224, 255, 64, 3)
    assert t.img_crop.crop_ratio_range == (0.08, 1.0)
    assert t.jigsaw_crop.crop_ratio_range == (0.6, 1.0)
    assert t.permutation_set is None  # any of 9!
    assert t.img_flip_prob == 0.5
    for aug in (t.img_jitter, t.patch_jitter):
        assert (aug.prob, aug.hue, aug.photometric_prob,
                aug.gray_prob) == (1.0, (-0.2, 0.2), 0.66, 0.2)
    assert t.patch_jitter.flip_prob == 0.5


@pytest.mark.parametrize('path,expected', [
    (PIRL_IN1K, False),
    ('configs/pirl_r50_8xb32_imagenet.py', False),
    ('configs/jigsaw/jigsaw_resnet50_8xb32-coslr-90e_in1k.py', False),
    ('configs/rotation/rotation_resnet50_8xb32-coslr-90e_in1k.py', False),
    ('configs/pirl/pirl_resnet18w16_1xb64-coslr-32e_digits.py', True),
    ('configs/pirl/pirl_resnet18w16_1xb64-coslr-20e_shapes-demo.py', True),
])
def test_residual_init_is_the_authors(path, expected):
    """The ImageNet configs start every residual block's last BatchNorm at
    weight 1 as VISSL does (ZERO_INIT_RESIDUAL: False); the small configs
    keep MMPretrain's zero init, the setting they were measured with."""
    cfg = Config.fromfile(osp.join(REPO, path))
    init_default_scope('mmpretrain')
    backbone = MODELS.build(dict(cfg.model.backbone, depth=18))
    backbone.init_weights()
    last_bn = backbone.layer1[0].norm2  # BasicBlock at depth 18
    assert bool((last_bn.weight == 0).all()) is expected
