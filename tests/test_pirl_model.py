"""PIRL forward/backward with a ResNet-18 on fake data."""
import copy

import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import pirl_plugin  # noqa: F401

DEMO = f'{REPO}/configs/pirl/pirl_resnet18_1xb64-coslr-20e_shapes-demo.py'


def _model(num_samples=50, **head):
    cfg = Config.fromfile(DEMO)
    mcfg = copy.deepcopy(cfg.model)
    mcfg.memory_bank.num_samples = num_samples
    mcfg.head.num_negatives = 16
    mcfg.head.update(head)
    return MODELS.build(mcfg)


def _batch(idx, img=64, patch=28, seed=0):
    g = torch.Generator().manual_seed(seed)
    b = len(idx)
    inputs = [
        torch.randint(
            0, 256, (b, 3, img, img), generator=g, dtype=torch.uint8)
    ]
    inputs += [
        torch.randint(
            0, 256, (b, 3, patch, patch), generator=g, dtype=torch.uint8)
        for _ in range(9)
    ]
    samples = [DataSample(metainfo=dict(sample_idx=i)) for i in idx]
    return dict(inputs=inputs, data_samples=samples)


def test_forward_backward_updates_bank_at_batch_indices():
    torch.manual_seed(0)
    model = _model()
    optim = build_optim_wrapper(
        model, dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    before = model.memory_bank.bank.clone()
    w_before = model.backbone.conv1.weight.detach().clone()
    idx = [3, 17, 42, 8]
    log_vars = model.train_step(_batch(idx), optim)
    assert {'loss', 'loss_transform', 'loss_image'} <= set(log_vars)
    assert torch.isfinite(log_vars['loss'])
    assert not torch.equal(model.backbone.conv1.weight, w_before)
    model.memory_bank.commit()  # what BankUpdateHook does after the step
    changed = (model.memory_bank.bank != before).any(1).nonzero().flatten()
    assert changed.tolist() == sorted(idx)


def test_training_without_memory_bank_hook_is_refused():
    """A config without BankUpdateHook: nothing commits the bank update
    after the optimiser step. The second step stops with the config line to
    add, before its backward, and the bank stays as the forward read it;
    with the commit after each step (what the hook does) steps go on."""
    torch.manual_seed(0)
    model = _model()
    optim = build_optim_wrapper(
        model, dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    model.train_step(_batch([3, 17]), optim)
    before = model.memory_bank.bank.clone()
    w_before = model.backbone.conv1.weight.detach().clone()
    with pytest.raises(RuntimeError) as exc:
        model.train_step(_batch([5, 8], seed=1), optim)
    assert "custom_hooks = [dict(type='BankUpdateHook')]" in str(exc.value)
    torch.testing.assert_close(model.memory_bank.bank, before)
    assert torch.equal(model.backbone.conv1.weight, w_before)  # no step
    model.memory_bank.commit()
    for step, idx in enumerate(([5, 8], [3, 9])):
        model.train_step(_batch(idx, seed=step + 1), optim)
        model.memory_bank.commit()  # what BankUpdateHook does
    assert int(model.memory_bank.num_updates) == 3


def test_one_batched_backbone_call_for_all_patches():
    model = _model()
    shapes = []
    model.backbone.register_forward_hook(
        lambda m, i, o: shapes.append(tuple(i[0].shape)))
    data = model.data_preprocessor(_batch([0, 1, 2]), True)
    model(**data, mode='loss')
    assert shapes == [(3, 3, 64, 64), (27, 3, 28, 28)]


def test_patches_reach_g_in_sample_major_order():
    model = _model()
    model.eval()  # BN on running statistics, so both paths agree
    seen = []
    model.transform_neck.register_forward_hook(
        lambda m, i, o: seen.append(i[0][-1].detach()))
    batch = _batch([0, 1])
    data = model.data_preprocessor(batch, True)
    model(**data, mode='loss')
    feats = seen[0]
    with torch.no_grad():
        # sample 1, patch 4 alone through the backbone
        single = model.backbone(data['inputs'][5][1:2])[-1]
    torch.testing.assert_close(
        feats[1 * 9 + 4], single[0], atol=1e-4, rtol=1e-4)


def test_loss_needs_sample_idx():
    model = _model()
    batch = _batch([0, 1])
    batch['data_samples'] = [DataSample() for _ in range(2)]
    data = model.data_preprocessor(batch, True)
    with pytest.raises(KeyError, match='sample_idx'):
        model(**data, mode='loss')


def test_nan_loss_stops_before_bank_update():
    model = _model()
    before = model.memory_bank.bank.clone()
    with torch.no_grad():
        model.neck.fc.weight.fill_(float('nan'))
    data = model.data_preprocessor(_batch([0, 1]), True)
    with pytest.raises(FloatingPointError, match="loss term 'loss_image'"):
        model(**data, mode='loss')
    assert not model.memory_bank.has_pending_update
    torch.testing.assert_close(model.memory_bank.bank, before)


def test_imagenet_config_builds_resnet50_and_computes_loss():
    cfg = Config.fromfile(
        f'{REPO}/configs/pirl/pirl_resnet50_8xb32-coslr-800e_in1k.py')
    assert cfg.model.head.num_negatives == 32000
    assert cfg.model.head.temperature == 0.07
    assert cfg.model.head.loss_lambda == 0.5
    assert cfg.optim_wrapper.optimizer.lr == 0.03
    assert cfg.auto_scale_lr.base_batch_size == 256
    assert cfg.train_cfg.max_epochs == 800
    mcfg = copy.deepcopy(cfg.model)
    mcfg.memory_bank.num_samples = 40
    mcfg.head.num_negatives = 8
    model = MODELS.build(mcfg)
    assert model.backbone.depth == 50
    assert model.neck.fc.in_features == 2048
    assert model.transform_neck.fc.in_features == 9 * 128
    data = model.data_preprocessor(_batch([1, 2], img=224, patch=64), True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss_transform'] + losses['loss_image'])


def test_autocast_keeps_bank_and_loss_in_float32():
    """What `--amp` does on GPU (AmpOptimWrapper wraps the forward in
    autocast), here with CPU autocast to bfloat16: the backbone runs in low
    precision, the loss, the partition function and the bank stay float32."""
    torch.manual_seed(0)
    model = _model()
    data = model.data_preprocessor(_batch([1, 5, 9]), True)
    seen = []
    model.backbone.register_forward_hook(
        lambda m, i, o: seen.append(o[-1].dtype))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model.loss(data['inputs'], data['data_samples'])
    assert seen == [torch.bfloat16, torch.bfloat16]  # autocast was active
    for k in ('loss_transform', 'loss_image', 'z_transform', 'z_image'):
        assert losses[k].dtype == torch.float32, k
        assert torch.isfinite(losses[k]), k
    (losses['loss_transform'] + losses['loss_image']).backward()
    model.memory_bank.commit()
    assert model.memory_bank.bank.dtype == torch.float32
    assert model.head.z.dtype == torch.float64
    torch.testing.assert_close(
        model.memory_bank.bank.norm(dim=1), torch.ones(50))


def test_syncbn_and_auto_scale_lr_from_the_command_line(tmp_path):
    """SyncBN is a config option and --auto-scale-lr scales by total batch
    (checked on the merged config that tools/train.py builds)."""
    import sys
    sys.path.insert(0, f'{REPO}/tools')
    from train import merge_args, parse_args
    cfg_file = f'{REPO}/configs/pirl/pirl_resnet50_8xb32-coslr-800e_in1k.py'
    args = parse_args([
        cfg_file, '--auto-scale-lr', '--cfg-options',
        'model.backbone.norm_cfg.type=SyncBN'
    ])
    cfg = merge_args(Config.fromfile(cfg_file), args)
    assert cfg.auto_scale_lr.enable
    assert cfg.auto_scale_lr.base_batch_size == 256
    assert cfg.optim_wrapper.optimizer.lr == 0.03
    assert MODELS.build(cfg.model).backbone.norm_cfg['type'] == 'SyncBN'


def test_channels_last_gives_the_same_loss_and_gradients():
    """``channels_last=True`` changes the memory layout only: the same
    weights and batch give the same losses and gradients, and the backbone
    really runs on channels-last tensors."""
    losses, grads = [], []
    for cl in (False, True):
        torch.manual_seed(0)
        cfg = Config.fromfile(DEMO)
        mcfg = copy.deepcopy(cfg.model)
        mcfg.memory_bank.num_samples = 50
        mcfg.head.num_negatives = 16
        mcfg.channels_last = cl
        model = MODELS.build(mcfg)
        formats = []
        model.backbone.conv1.register_forward_hook(
            lambda m, i, o: formats.append(i[0].is_contiguous(
                memory_format=torch.channels_last)))
        data = model.data_preprocessor(_batch([0, 1, 2]), True)
        out = model.loss(data['inputs'], data['data_samples'])
        out['loss_transform'].add(out['loss_image']).backward()
        assert formats == [cl, cl]
        assert model.backbone.conv1.weight.is_contiguous(
            memory_format=torch.channels_last) == cl
        losses.append(torch.stack([out['loss_transform'], out['loss_image']]))
        grads.append(model.backbone.conv1.weight.grad.contiguous())
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-4, atol=1e-5)
    # conv kernels differ per layout, and BN over 3 samples amplifies the
    # float32 rounding on the way back, so compare relative to the norm
    rel = (grads[0] - grads[1]).norm() / grads[0].norm()
    assert rel < 1e-2, f'gradients differ by {rel:.2e} of their norm'


def _multi_model(pirl, transforms):
    """A PIRLMultiTransform with ``pirl``'s backbone, heads and bank (head
    g of ``pirl`` for every transformation named 'jigsaw', head f for the
    others)."""
    cfg = Config.fromfile(DEMO).model
    head = {k: v for k, v in cfg.head.items() if k != 'type'}
    head.update(num_negatives=16)
    bank = dict(cfg.memory_bank, num_samples=pirl.memory_bank.num_samples)
    multi = MODELS.build(
        dict(
            type='PIRLMultiTransform',
            data_preprocessor=cfg.data_preprocessor,
            backbone=cfg.backbone,
            neck=cfg.neck,
            transforms=[
                dict(
                    name=name,
                    num_views=n,
                    neck=cfg.transform_neck if name == 'jigsaw' else cfg.neck)
                for name, n in transforms
            ],
            head=dict(
                type='MultiNCEHead',
                transform_names=tuple(name for name, _ in transforms),
                **head),
            memory_bank=bank))
    multi.backbone.load_state_dict(pirl.backbone.state_dict())
    multi.neck.load_state_dict(pirl.neck.state_dict())
    multi.memory_bank.load_state_dict(pirl.memory_bank.state_dict())
    for name, _ in transforms:
        src = pirl.transform_neck if name == 'jigsaw' else pirl.neck
        multi.transform_necks[name].load_state_dict(src.state_dict())
    return multi


def test_multi_transform_with_one_transformation_is_pirl():
    """PIRL is PIRLMultiTransform's one-transformation case: with the same
    weights and bank they give the same loss terms and stage the same bank
    update."""
    torch.manual_seed(0)
    pirl = _model()
    multi = _multi_model(pirl, [('jigsaw', 9)])
    batch = _batch([3, 17, 42, 8])
    a = pirl(**pirl.data_preprocessor(batch, True), mode='loss')
    b = multi(**multi.data_preprocessor(batch, True), mode='loss')
    torch.testing.assert_close(b['loss_jigsaw'], a['loss_transform'])
    torch.testing.assert_close(b['loss_image'], a['loss_image'])
    pirl.memory_bank.commit()
    multi.memory_bank.commit()
    torch.testing.assert_close(multi.memory_bank.bank, pirl.memory_bank.bank)


def test_multi_transform_keeps_bank_and_head_out_of_the_ddp_broadcast():
    """Like PIRL, the multi-transformation model lists its bank's and head's
    buffers for DDP to ignore (they are synchronised by the bank and head;
    broadcast_buffers=True must not overwrite them)."""
    multi = _multi_model(_model(), [('jigsaw', 9), ('rotation', 1)])
    want = [f'memory_bank.{n}' for n, _ in multi.memory_bank.named_buffers()]
    want += [f'head.{n}' for n, _ in multi.head.named_buffers()]
    assert want and sorted(
        multi._ddp_params_and_buffers_to_ignore) == sorted(want)


def test_multi_transform_embeds_each_transformation_with_its_head():
    """Each transformation's views, in input order, go through the backbone
    and that transformation's own head g_t (reference: the modules called
    by hand on the views of each)."""
    torch.manual_seed(0)
    pirl = _model()
    multi = _multi_model(pirl, [('jigsaw', 9), ('rotation', 1)])
    with torch.no_grad():  # head g_rotation now differs from head f
        for p in multi.transform_necks['rotation'].parameters():
            p.add_(0.1)
    batch = _batch([3, 17])
    g = torch.Generator().manual_seed(5)
    batch['inputs'].append(
        torch.randint(0, 256, (2, 3, 64, 64), generator=g, dtype=torch.uint8))
    inputs = multi.data_preprocessor(batch, True)['inputs']
    multi.eval()  # running BatchNorm statistics: per-call results agree
    with torch.no_grad():
        image_feat, feats = multi.pretext_features(inputs)
        jig = torch.stack(inputs[1:10], 1).flatten(0, 1)
        necks = multi.transform_necks
        want_jig = necks['jigsaw'](multi.backbone(jig))[0]
        want_rot = necks['rotation'](multi.backbone(inputs[10]))[0]
        want_img = multi.neck(multi.backbone(inputs[0]))[0]
    assert len(feats) == 2
    torch.testing.assert_close(feats[0], want_jig)
    torch.testing.assert_close(feats[1], want_rot)
    torch.testing.assert_close(image_feat, want_img)
