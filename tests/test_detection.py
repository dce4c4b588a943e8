"""Detection transfer: PIRL checkpoint -> backbone -> Faster R-CNN on VOC.

CPU only, no downloads: every model is built with ``init_cfg=None`` or from
checkpoints the tests write.
"""
import copy
import glob
import os
import os.path as osp
import re
import sys
import time

import numpy as np
import pytest
import torch
from conftest import REPO, run_tool
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import save_checkpoint

import pirl_plugin  # noqa: F401,E402  registers PIRL, allowlists classes

sys.path.insert(0, osp.join(REPO, 'tools', 'model_converters'))

DEMO = osp.join(REPO, 'configs', 'pirl',
                'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')
DET_DIR = osp.join(REPO, 'configs', 'benchmarks', 'mmdetection', 'voc0712')
C4 = osp.join(DET_DIR, 'faster-rcnn_r50-c4_8xb2-25k_voc0712.py')
C4_SYNCBN = osp.join(DET_DIR, 'faster-rcnn_r50-c4-syncbn_8xb2-24k_voc0712.py')
FPN = osp.join(DET_DIR, 'faster-rcnn_r50-fpn_8xb2-25k_voc0712.py')
CONVERTER = 'tools/model_converters/pirl_to_backbone.py'
COCO_IOUS = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]

VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car',
               'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse',
               'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train',
               'tvmonitor')


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def build_pirl(depth: int = 18, seed: int = 0):
    """A PIRL model from the demo config, with random BN statistics so that
    a wrong conversion of the running mean/var shows in the outputs."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(DEMO)
    mcfg = copy.deepcopy(cfg.model)
    width = 512 if depth < 50 else 2048
    mcfg.backbone.depth = depth
    mcfg.neck.in_channels = width
    mcfg.transform_neck.in_channels = width
    mcfg.memory_bank.num_samples = 20
    mcfg.head.num_negatives = 8
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(mcfg)
    g = torch.Generator().manual_seed(seed)
    for m in model.backbone.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(0.1 * torch.randn(n, generator=g))
            m.running_var.copy_(0.5 + torch.rand(n, generator=g))
            m.weight.data.copy_(0.5 + torch.rand(n, generator=g))
            m.bias.data.copy_(0.1 * torch.randn(n, generator=g))
    return model.eval()


def save_like_mmengine(model, path: str) -> None:
    """Write the checkpoint layout MMEngine's Runner writes (meta with the
    config text, state_dict, message hub with HistoryBuffers, optimizer)."""
    hub = MessageHub('test_detection_ckpt')  # not made the current hub
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', np.float64(1.25))
    optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ckpt = dict(
        meta=dict(
            epoch=1,
            iter=7,
            seed=0,
            experiment_name='pirl_test',
            cfg=Config.fromfile(DEMO).pretty_text,
            mmengine_version='0.10.7',
            dataset_meta=None),
        state_dict=model.state_dict(),
        message_hub=hub.state_dict(),
        optimizer=optim.state_dict())
    save_checkpoint(ckpt, path)


def torchvision_features(model, x):
    """res5 feature map of a torchvision ResNet (no pooling, no fc)."""
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    return model.layer4(model.layer3(model.layer2(model.layer1(x))))


def make_tiny_voc(root: str, seed: int = 0) -> str:
    """A VOC-format dataset: VOCdevkit/VOC2007 (trainval 6, test 4) and
    VOCdevkit/VOC2012 (trainval 4), 160x128 JPEGs with 1-3 coloured
    rectangles, each labelled with one of VOC's 20 classes.

    Returns:
        str: the ``VOCdevkit/`` directory (with a trailing slash).
    """
    import cv2
    rng = np.random.default_rng(seed)
    devkit = osp.join(root, 'VOCdevkit')
    splits = {
        'VOC2007': {
            'trainval': 6,
            'test': 4
        },
        'VOC2012': {
            'trainval': 4
        }
    }
    # one colour per class used, so the task is learnable in principle
    classes = tuple(VOC_CLASSES[i] for i in (6, 11, 14))  # car dog person
    colours = dict(zip(classes, [(0, 0, 255), (0, 255, 0), (255, 0, 0)]))
    w, h = 160, 128
    for year, parts in splits.items():
        base = osp.join(devkit, year)
        for sub in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
            os.makedirs(osp.join(base, sub), exist_ok=True)
        n = 0
        for split, count in parts.items():
            ids = []
            for _ in range(count):
                img_id = f'{year[3:]}_{n:06d}'
                n += 1
                ids.append(img_id)
                img = np.full((h, w, 3), 127, np.uint8)
                img += rng.integers(0, 20, img.shape, dtype=np.uint8)
                objects = []
                for _ in range(int(rng.integers(1, 4))):
                    name = classes[int(rng.integers(len(classes)))]
                    bw, bh = int(rng.integers(30,
                                              70)), int(rng.integers(30, 60))
                    x1 = int(rng.integers(1, w - bw))
                    y1 = int(rng.integers(1, h - bh))
                    x2, y2 = x1 + bw, y1 + bh
                    cv2.rectangle(img, (x1, y1), (x2, y2), colours[name], -1)
                    objects.append(
                        f'<object><name>{name}</name><pose>Unspecified</pose>'
                        '<truncated>0</truncated><difficult>0</difficult>'
                        f'<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>'
                        f'<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox>'
                        '</object>')
                cv2.imwrite(osp.join(base, 'JPEGImages', f'{img_id}.jpg'), img)
                with open(osp.join(base, 'Annotations', f'{img_id}.xml'),
                          'w') as f:
                    f.write(f'<annotation><folder>{year}</folder>'
                            f'<filename>{img_id}.jpg</filename><size>'
                            f'<width>{w}</width><height>{h}</height>'
                            '<depth>3</depth></size><segmented>0</segmented>' +
                            ''.join(objects) + '</annotation>')
            with open(
                    osp.join(base, 'ImageSets', 'Main', f'{split}.txt'),
                    'w') as f:
                f.write('\n'.join(ids) + '\n')
    return devkit + '/'


@pytest.fixture(scope='module')
def tiny_voc(tmp_path_factory):
    return make_tiny_voc(str(tmp_path_factory.mktemp('voc')))


@pytest.fixture(scope='module')
def pirl_r50_ckpt(tmp_path_factory):
    """A ResNet-50 PIRL model and its MMEngine checkpoint file."""
    model = build_pirl(depth=50, seed=1)
    path = str(tmp_path_factory.mktemp('pirl_r50') / 'epoch_1.pth')
    save_like_mmengine(model, path)
    return model, path


def convert(src, dst, *extra, check=True):
    return run_tool([CONVERTER, src, dst, *extra], check=check)


# --------------------------------------------------------------------------
# (a) converter round trip
# --------------------------------------------------------------------------
def test_convert_r18_loads_into_mmdet_and_torchvision(tmp_path):
    import torchvision
    from mmdet.models.backbones import ResNet as DetResNet
    pirl = build_pirl(depth=18)
    src = str(tmp_path / 'epoch_1.pth')
    save_like_mmengine(pirl, src)

    dst = str(tmp_path / 'backbone.pth')
    proc = convert(src, dst)
    out = proc.stdout
    for key in ('memory_bank.bank', 'head.z', 'neck.fc.weight'):
        assert re.search(rf'^\s+{re.escape(key)}$', out, re.M), out
    assert 'transform_neck.' in out
    assert 'ResNet-18' in out and 'mmpretrain ResNet(depth=18)' in out

    ckpt = torch.load(dst, map_location='cpu')  # weights_only default
    assert set(ckpt) == {'state_dict', 'meta'}
    sd = ckpt['state_dict']
    assert not any(
        k.startswith(('backbone.', 'neck', 'head', 'memory')) for k in sd)
    assert ckpt['meta']['arch'] == 'resnet18'
    assert ckpt['meta']['pirl_epoch'] == 1
    expected = {
        k[len('backbone.'):]: v
        for k, v in pirl.state_dict().items() if k.startswith('backbone.')
    }
    assert set(sd) == set(expected)

    x = torch.randn(1, 3, 96, 96, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = pirl.backbone(x)[-1]

        det = DetResNet(depth=18, out_indices=(3, ), init_cfg=None)
        det.load_state_dict(sd, strict=True)
        det.eval()  # mmdet's ResNet.train() returns None: no chaining
        torch.testing.assert_close(det(x)[-1], ref)

        tv_dst = str(tmp_path / 'resnet18_tv.pth')
        proc = convert(src, tv_dst, '--format', 'torchvision')
        assert 'torchvision resnet18' in proc.stdout
        tv_sd = torch.load(tv_dst, map_location='cpu')
        tv = torchvision.models.resnet18(weights=None)
        missing, unexpected = tv.load_state_dict(tv_sd, strict=False)
        assert sorted(missing) == ['fc.bias', 'fc.weight'] and not unexpected
        tv.fc = torch.nn.Identity()
        tv.load_state_dict(tv_sd, strict=True)
        torch.testing.assert_close(torchvision_features(tv.eval(), x), ref)


def test_convert_r50_torchvision_layout(pirl_r50_ckpt, tmp_path):
    import torchvision
    pirl, src = pirl_r50_ckpt
    dst = str(tmp_path / 'resnet50_tv.pth')
    proc = convert(src, dst, '--format', 'torchvision')
    assert 'torchvision resnet50' in proc.stdout
    tv = torchvision.models.resnet50(weights=None)
    tv.fc = torch.nn.Identity()
    tv.load_state_dict(torch.load(dst, map_location='cpu'), strict=True)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(
            torchvision_features(tv.eval(), x),
            pirl.backbone(x)[-1])


# --------------------------------------------------------------------------
# (b) error messages
# --------------------------------------------------------------------------
def test_convert_refuses_non_pirl_and_truncated_files(tmp_path):
    from mmpretrain.models.backbones import ResNet
    plain = str(tmp_path / 'plain_resnet.pth')
    torch.save(dict(state_dict=ResNet(depth=18).state_dict()), plain)
    proc = convert(plain, str(tmp_path / 'out.pth'), check=False)
    assert proc.returncode != 0
    assert f"{plain!r} is not a PIRL checkpoint" in proc.stderr
    assert "no 'backbone.*' keys" in proc.stderr
    assert 'backbone-only ResNet checkpoint already' in proc.stderr
    assert 'Traceback' not in proc.stderr

    # the same checks in-process (each tool start costs seconds)
    from pirl_to_backbone import main as convert_main
    good = str(tmp_path / 'epoch_1.pth')
    save_like_mmengine(build_pirl(depth=18), good)
    truncated = str(tmp_path / 'truncated.pth')
    with open(good, 'rb') as f:
        data = f.read()
    with open(truncated, 'wb') as g:
        g.write(data[:len(data) // 3])
    out = str(tmp_path / 'out.pth')
    with pytest.raises(SystemExit) as exc:
        convert_main([truncated, out])
    msg = str(exc.value.code)
    assert f'cannot read checkpoint {truncated!r}' in msg
    assert 'truncated or not a PyTorch checkpoint' in msg
    assert not osp.exists(out)
    empty = str(tmp_path / 'empty.pth')
    open(empty, 'wb').close()
    with pytest.raises(SystemExit, match=re.escape(repr(empty))):
        convert_main([empty, out])
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(SystemExit) as exc:
        convert_main([missing, out])
    assert f'checkpoint file {missing!r} not found' in str(exc.value.code)
    with pytest.raises(SystemExit, match='refusing to overwrite the input'):
        convert_main([good, good])


def test_det_train_checks_the_pretrained_checkpoint(pirl_r50_ckpt, tmp_path):
    from det_train import check_pretrained
    from pirl_to_backbone import convert as convert_in_process
    _, src = pirl_r50_ckpt
    cfg = Config.fromfile(C4)
    with pytest.raises(ValueError, match='is a full PIRL checkpoint'):
        check_pretrained(src, cfg)
    r18 = str(tmp_path / 'r18.pth')
    save_like_mmengine(build_pirl(depth=18), str(tmp_path / 'pirl18.pth'))
    convert_in_process(str(tmp_path / 'pirl18.pth'), r18)
    with pytest.raises(
            ValueError,
            match='holds a ResNet-18 but the config '
            'builds model.backbone.depth=50'):
        check_pretrained(r18, cfg)
    cfg.model.backbone.depth = 18
    assert check_pretrained(r18, cfg) == 18
    # a plain torchvision state dict (fc included), e.g. the supervised
    # baseline's ImageNet weights, is accepted as it is
    import torchvision
    tv = str(tmp_path / 'resnet18_tv.pth')
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), tv)
    assert check_pretrained(tv, cfg) == 18


# --------------------------------------------------------------------------
# (d) the paper-protocol config
# --------------------------------------------------------------------------
def _det_registry():
    """MMDetection's registries; build under ``mmdet_scope()``."""
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    from mmdet.registry import DATASETS, MODELS
    return DATASETS, MODELS


def mmdet_scope():
    """Make 'mmdet' the default scope for a ``with`` block only (a global
    default scope would make later MMPretrain builds look in mmdet)."""
    from mmengine.registry import DefaultScope
    return DefaultScope.overwrite_default_scope('mmdet')


def test_paper_config_settings():
    cfg = Config.fromfile(C4)
    assert cfg.default_scope == 'mmdet'
    pre = cfg.model.data_preprocessor
    assert pre.mean == [123.675, 116.28, 103.53]
    assert pre.std == [58.395, 57.12, 57.375] and pre.bgr_to_rgb
    for part in (cfg.model.backbone, cfg.model.roi_head.shared_head):
        assert part.style == 'pytorch' and part.depth == 50
        assert part.norm_eval and part.norm_cfg.requires_grad is False
    assert cfg.train_dataloader.batch_size == 2  # x 8 GPUs = 16
    ds = cfg.train_dataloader.dataset
    assert ds.type == 'ConcatDataset' and ds.ignore_keys == ['dataset_type']
    assert [d.ann_file for d in ds.datasets] == [
        'VOC2007/ImageSets/Main/trainval.txt',
        'VOC2012/ImageSets/Main/trainval.txt'
    ]
    assert cfg.test_dataloader.dataset.ann_file == \
        'VOC2007/ImageSets/Main/test.txt'
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == 25000
    warmup, step = cfg.param_scheduler
    assert warmup.type == 'LinearLR' and warmup.end == 1000
    assert step.milestones == [17000]
    assert cfg.optim_wrapper.optimizer.lr == 0.003
    assert ds.datasets[0].pipeline[2].type == 'RandomChoiceResize'
    for c in (cfg, Config.fromfile(C4_SYNCBN), Config.fromfile(FPN)):
        assert c.val_evaluator.iou_thrs == COCO_IOUS
        assert c.test_evaluator.iou_thrs == COCO_IOUS
        assert c.model.data_preprocessor.bgr_to_rgb
        assert c.train_dataloader.dataset.ignore_keys == ['dataset_type']
    syncbn = Config.fromfile(C4_SYNCBN)
    assert syncbn.model.backbone.norm_cfg.type == 'SyncBN'
    assert syncbn.model.backbone.frozen_stages == -1
    assert syncbn.param_scheduler[1].milestones == [18000, 22000]


def test_paper_config_loads_converted_r50(pirl_r50_ckpt, tmp_path):
    pirl, src = pirl_r50_ckpt
    dst = str(tmp_path / 'pirl_r50_backbone.pth')
    convert(src, dst)
    _, MODELS = _det_registry()
    from det_train import set_pretrained  # tools/ is on sys.path
    cfg = Config.fromfile(C4)
    assert set_pretrained(cfg, dst) == [
        'model.backbone.init_cfg', 'model.roi_head.shared_head.init_cfg'
    ]
    with mmdet_scope():
        model = MODELS.build(cfg.model)
        model.init_weights()
    ckpt = torch.load(dst, map_location='cpu')['state_dict']
    backbone_keys = set(model.backbone.state_dict())
    assert not backbone_keys - set(ckpt)  # no missing backbone keys
    res5_keys = set(model.roi_head.shared_head.state_dict())
    assert res5_keys and not res5_keys - set(ckpt)
    for k, v in model.backbone.state_dict().items():
        torch.testing.assert_close(v, ckpt[k], msg=k)
    for k, v in model.roi_head.shared_head.state_dict().items():
        torch.testing.assert_close(v, ckpt[k], msg=k)
    # pytorch style: stride in the 3x3 convolution, as in PIRL's backbone
    assert model.backbone.layer2[0].conv2.stride == (2, 2)
    assert model.backbone.layer2[0].conv1.stride == (1, 1)
    assert not model.backbone.bn1.weight.requires_grad
    # the C4 detector's res4 feature equals PIRL's res4
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        pirl4 = pirl.backbone
        y = pirl4.maxpool(pirl4.relu(pirl4.norm1(pirl4.conv1(x))))
        for name in ('layer1', 'layer2', 'layer3'):
            y = getattr(pirl4, name)(y)
        model.backbone.eval()
        torch.testing.assert_close(model.backbone(x)[0], y)


def test_paper_config_dataset_pipeline(tiny_voc):
    DATASETS, _ = _det_registry()
    cfg = Config.fromfile(C4)
    train = copy.deepcopy(cfg.train_dataloader.dataset)
    for d in train.datasets:
        d.data_root = tiny_voc
    with mmdet_scope():
        ds = DATASETS.build(train)  # needs ignore_keys=['dataset_type']
        sample = ds[0]
        test = copy.deepcopy(cfg.test_dataloader.dataset)
        test.data_root = tiny_voc
        test_ds = DATASETS.build(test)
        test_sample = test_ds[0]
    assert len(ds) == 10
    h, w = sample['inputs'].shape[-2:]
    assert 480 <= min(h, w) <= 800  # multi-scale: shorter side 480-800
    assert len(sample['data_samples'].gt_instances) >= 1
    assert len(test_ds) == 4
    assert test_ds.metainfo['dataset_type'] == 'VOC2007'
    assert min(test_sample['inputs'].shape[-2:]) == 800


@pytest.mark.parametrize('config', [C4_SYNCBN, FPN])
def test_variant_configs_build(config):
    _, MODELS = _det_registry()
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    with mmdet_scope():
        model = MODELS.build(cfg.model)
    assert model.backbone.depth == 50
    assert model.data_preprocessor._channel_conversion  # BGR -> RGB


# --------------------------------------------------------------------------
# (c) end to end through the command-line tools
# --------------------------------------------------------------------------
SMALL_DET_CFG = """
_base_ = {base!r}
data_root = {data_root!r}
# ResNet-18 C4: res4 has 256 channels, res5 512.
model = dict(
    backbone=dict(depth=18),
    rpn_head=dict(in_channels=256, feat_channels=256),
    roi_head=dict(
        shared_head=dict(depth=18),
        bbox_roi_extractor=dict(out_channels=256),
        bbox_head=dict(in_channels=512)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=100),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=50)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize', scales=[(200, 96), (200, 128)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(200, 128), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                          'img_shape', 'scale_factor'))
]
# the ConcatDataset (with its ignore_keys) comes from the paper config
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(datasets=[
        dict(type='VOCDataset', data_root=data_root,
             ann_file='VOC2007/ImageSets/Main/trainval.txt',
             data_prefix=dict(sub_data_root='VOC2007/'),
             filter_cfg=dict(filter_empty_gt=True, min_size=32),
             pipeline=train_pipeline),
        dict(type='VOCDataset', data_root=data_root,
             ann_file='VOC2012/ImageSets/Main/trainval.txt',
             data_prefix=dict(sub_data_root='VOC2012/'),
             filter_cfg=dict(filter_empty_gt=True, min_size=32),
             pipeline=train_pipeline)]))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
max_iters = {iters}
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=4),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
         milestones=[max_iters - 2], gamma=0.1)]
optim_wrapper = dict(optimizer=dict(lr=0.01))
default_hooks = dict(logger=dict(interval=4),
                     checkpoint=dict(interval=max_iters))
"""


@pytest.mark.slow
def test_pirl_to_faster_rcnn_end_to_end(shapes_root, tiny_voc, tmp_path):
    t0 = time.time()
    # 1. PIRL pre-training, a few iterations (60 images / 16 = 3 steps)
    pirl_work = str(tmp_path / 'pirl')
    run_tool([
        'tools/train.py', DEMO, '--work-dir', pirl_work, '--cfg-options',
        f'train_dataloader.dataset.data_root={shapes_root}/train',
        'train_dataloader.batch_size=16', 'train_dataloader.num_workers=0',
        'model.head.num_negatives=16', 'train_cfg.max_epochs=1',
        'param_scheduler.0.T_max=1', 'param_scheduler.0.end=1',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1'
    ])
    pirl_ckpt = osp.join(pirl_work, 'epoch_1.pth')
    assert osp.isfile(pirl_ckpt)

    # 2. conversion
    backbone = str(tmp_path / 'pirl_r18_backbone.pth')
    proc = convert(pirl_ckpt, backbone)
    assert 'memory_bank.bank' in proc.stdout
    converted = torch.load(backbone, map_location='cpu')['state_dict']

    det_cfg = str(tmp_path / 'faster-rcnn_r18-c4_tiny_voc0712.py')
    with open(det_cfg, 'w') as f:
        f.write(SMALL_DET_CFG.format(base=C4, data_root=tiny_voc, iters=8))

    # the launcher refuses an unconverted PIRL checkpoint, clearly
    proc = run_tool(['tools/det_train.py', det_cfg, pirl_ckpt], check=False)
    assert proc.returncode != 0
    assert 'is a full PIRL checkpoint' in proc.stderr
    assert 'pirl_to_backbone.py' in proc.stderr

    # 3. Faster R-CNN fine-tuning from the converted backbone
    det_work = str(tmp_path / 'det')
    proc = run_tool(
        ['tools/det_train.py', det_cfg, backbone, '--work-dir', det_work])
    logs = open(glob.glob(osp.join(det_work, '*', '*.log'))[0]).read()
    assert f'load model from: {backbone}' in logs  # backbone and res5
    assert logs.count(f'load model from: {backbone}') == 2
    det_ckpt = osp.join(det_work, 'iter_8.pth')
    assert osp.isfile(det_ckpt)
    weights = torch.load(det_ckpt, map_location='cpu')['state_dict']
    # stem and res2 are frozen (frozen_stages=1) and BN is frozen
    torch.testing.assert_close(weights['backbone.conv1.weight'],
                               converted['conv1.weight'])
    torch.testing.assert_close(weights['backbone.layer3.0.bn1.running_mean'],
                               converted['layer3.0.bn1.running_mean'])
    torch.testing.assert_close(
        weights['roi_head.shared_head.layer4.0.bn1.running_var'],
        converted['layer4.0.bn1.running_var'])
    assert not torch.equal(weights['backbone.layer3.0.conv1.weight'],
                           converted['layer3.0.conv1.weight'])
    assert 'pascal_voc/AP50' in logs and 'pascal_voc/AP75' in logs

    # 4. evaluation through tools/det_test.py
    proc = run_tool([
        'tools/det_test.py', det_cfg, det_ckpt, '--work-dir',
        str(tmp_path / 'test')
    ])
    out = proc.stdout
    assert 'VOC07 test (AP = mean over IoU 0.50:0.95)' in out, out
    m = re.search(
        r'AP \|\s+AP50 \|\s+AP75\n\s*([\d.]+) \|\s+([\d.]+) \|'
        r'\s+([\d.]+)', out)
    assert m, out
    ap, ap50, ap75 = map(float, m.groups())
    assert 0 <= ap75 <= ap50 <= 100 and ap <= ap50
    assert time.time() - t0 < 400


@pytest.mark.slow
def test_det_dist_train_two_cpu_processes(tiny_voc, tmp_path):
    """tools/det_dist_train.sh: torchrun, 2 processes, gloo on the CPU."""
    import subprocess

    from pirl_to_backbone import convert as convert_in_process
    pirl_ckpt = str(tmp_path / 'epoch_1.pth')
    save_like_mmengine(build_pirl(depth=18), pirl_ckpt)
    backbone = str(tmp_path / 'backbone.pth')
    convert_in_process(pirl_ckpt, backbone)
    det_cfg = str(tmp_path / 'faster-rcnn_r18-c4_tiny_voc0712.py')
    with open(det_cfg, 'w') as f:
        f.write(SMALL_DET_CFG.format(base=C4, data_root=tiny_voc, iters=2))
    work = str(tmp_path / 'det')
    env = dict(
        os.environ,
        PYTHON=sys.executable,
        OMP_NUM_THREADS='1',
        PORT=str(29600 + os.getpid() % 300))
    proc = subprocess.run([
        'bash', 'tools/det_dist_train.sh', det_cfg, '2', backbone,
        '--work-dir', work
    ],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    logs = open(glob.glob(osp.join(work, '*', '*.log'))[0]).read()
    assert 'Distributed launcher: pytorch' in logs
    assert 'Distributed training: True' in logs and 'GPU number: 2' in logs
    assert 'pascal_voc/AP75' in logs
    assert osp.isfile(osp.join(work, 'iter_2.pth'))
