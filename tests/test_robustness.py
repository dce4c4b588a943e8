"""Bad images, datasets, configs and checkpoints get clear errors (fast
tests through the transforms, the dataset, the config builders and the
checkpoint helpers; tools/train.py end to end is in test_robustness_e2e)."""
import copy
import os
import os.path as osp
import re
import sys

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO, run_tool
from mmengine.config import Config
from mmengine.registry import DefaultScope
from PIL import Image

import pirl_plugin  # noqa: F401
from pirl_plugin.datasets import DatasetConfigError, check_dataset_cfg
from pirl_plugin.datasets.transforms import (ImageDecodeError,
                                             RobustLoadImageFromFile)
from pirl_plugin.engine.hooks.skipped_images_hook import read_skip_lists

sys.path.insert(0, osp.join(REPO, 'tools', 'model_converters'))
DEMO = osp.join(REPO, 'configs', 'pirl',
                'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')


# --------------------------------------------------------------------------
# helpers: one file of each kind
# --------------------------------------------------------------------------
def _rgb(h=24, w=32, seed=0):
    return np.random.default_rng(seed).integers(
        0, 256, (h, w, 3), dtype=np.uint8)


def write_bad_and_odd_images(folder):
    """Write every kind of file the loader must handle; return their
    paths by kind and the RGB content of the colour ones."""
    os.makedirs(folder, exist_ok=True)
    p = {
        k: osp.join(folder, f'{k}.{ext}')
        for k, ext in [('ok', 'jpg'), (
            'truncated',
            'jpg'), ('truncated_png',
                     'png'), ('text', 'jpg'), ('empty', 'jpg'), (
                         'gray',
                         'png'), ('gray_jpg',
                                  'jpg'), ('rgba',
                                           'png'), ('cmyk',
                                                    'jpg'), ('gray16', 'png'),
                       ('rgb16',
                        'png'), ('palette',
                                 'png'), ('bilevel',
                                          'png'), ('exif',
                                                   'jpg'), ('tiny', 'png')]
    }
    rgb = _rgb()
    Image.fromarray(rgb).save(p['ok'], quality=95)
    data = open(p['ok'], 'rb').read()
    open(p['truncated'], 'wb').write(data[:len(data) // 2])
    Image.fromarray(rgb).save(p['truncated_png'])
    data = open(p['truncated_png'], 'rb').read()
    open(p['truncated_png'], 'wb').write(data[:len(data) * 2 // 3])
    open(p['text'], 'w').write('<html>403 Forbidden</html>\n')
    open(p['empty'], 'wb').close()
    gray = rgb[..., 0]
    Image.fromarray(gray).save(p['gray'])
    Image.fromarray(gray).save(p['gray_jpg'], quality=95)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    rgba[:, :8, 3] = 0  # transparent left band
    Image.fromarray(rgba).save(p['rgba'])
    Image.fromarray(rgb).convert('CMYK').save(p['cmyk'], quality=95)
    g16 = np.zeros((24, 32), np.uint16)
    g16[:, :8], g16[:, 8:16], g16[:, 16:] = 65535, 32896, 257
    cv2.imwrite(p['gray16'], g16)
    c16 = np.zeros((24, 32, 3), np.uint16)  # BGR for cv2
    c16[..., 0], c16[..., 1], c16[..., 2] = 65535, 0, 32896
    cv2.imwrite(p['rgb16'], c16)
    pal = Image.fromarray(rgb).convert('P', palette=Image.ADAPTIVE, colors=8)
    pal.info['transparency'] = 0
    pal.save(p['palette'], transparency=0)
    Image.fromarray(gray > 128).save(p['bilevel'])
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    Image.fromarray(rgb).save(p['exif'], quality=95, exif=exif.tobytes())
    Image.fromarray(_rgb(20, 20, seed=1)).save(p['tiny'])
    return p, rgb


@pytest.fixture(scope='module')
def odd_images(tmp_path_factory):
    return write_bad_and_odd_images(str(tmp_path_factory.mktemp('odd')))


def load(path, **kw):
    return RobustLoadImageFromFile(**kw)(dict(img_path=path))


# --------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------
@pytest.mark.parametrize('kind,reason', [
    ('truncated', 'image file is truncated'),
    ('truncated_png', 'truncated'),
    ('text', 'cannot identify image file'),
    ('empty', 'the file is empty (0 bytes)'),
])
def test_undecodable_image_stops_naming_the_file(odd_images, kind, reason):
    paths, _ = odd_images
    with pytest.raises(ImageDecodeError) as exc:
        load(paths[kind])
    msg = str(exc.value)
    assert msg.startswith(f"cannot decode image '{paths[kind]}': ")
    assert reason in msg
    assert 'truncated, corrupt or not an image' in msg
    assert ('train_dataloader.dataset.pipeline.0.skip_bad_images=True' in msg)


def test_missing_image_file_names_it(tmp_path):
    path = str(tmp_path / 'gone.jpg')
    with pytest.raises(
            ImageDecodeError, match=re.escape(f"'{path}': file not found")):
        load(path)


def test_opencv_loader_would_return_silently_wrong_images(odd_images):
    """What the robust loader fixes: with mmcv's default (OpenCV) loader a
    truncated JPEG either decodes partially without an error or fails a
    bare assertion, and transparent pixels keep arbitrary colours."""
    from mmcv.transforms import LoadImageFromFile
    paths, _ = odd_images
    try:
        trunc = LoadImageFromFile()(dict(img_path=paths['truncated']))['img']
        assert trunc.shape == (24, 32, 3)  # no error for a broken file
    except AssertionError as exc:
        assert str(exc).startswith('failed to load image')
    rgba = LoadImageFromFile()(dict(img_path=paths['rgba']))['img']
    assert not (rgba[:, :8] == 255).all()  # alpha dropped, colours kept


def test_colour_conversions_are_defined(odd_images):
    paths, rgb = odd_images
    bgr = rgb[..., ::-1]
    for kind in ('ok', 'gray', 'gray_jpg', 'rgba', 'cmyk', 'gray16', 'rgb16',
                 'palette', 'bilevel'):
        out = load(paths[kind])
        img = out['img']
        assert img.dtype == np.uint8 and img.shape == (24, 32, 3), kind
        assert out['img_shape'] == (24, 32) == out['ori_shape']
    # greyscale: three equal channels with the grey values
    gray = load(paths['gray'])['img']
    np.testing.assert_array_equal(gray[..., 0], rgb[..., 0])
    np.testing.assert_array_equal(gray[..., 0], gray[..., 2])
    # transparent pixels over white, opaque ones unchanged (BGR order)
    rgba = load(paths['rgba'])['img']
    assert (rgba[:, :8] == 255).all()
    np.testing.assert_array_equal(rgba[:, 8:], bgr[:, 8:])
    assert (load(paths['rgba'],
                 alpha_background=(0, 0, 0))['img'][:, :8] == 0).all()
    # CMYK JPEG: the colours survive (JPEG is lossy)
    cmyk = load(paths['cmyk'])['img'].astype(float)
    assert np.abs(cmyk - bgr).mean() < 12
    # 16 bit -> 8 bit scaled, not clipped: 65535 -> 255, 32896 -> 128
    g16 = load(paths['gray16'])['img']
    assert (g16[:, :8] == 255).all() and (g16[:, 8:16] == 128).all()
    assert (g16[:, 16:] == 1).all()
    c16 = load(paths['rgb16'])['img']
    assert (c16[..., 0] == 255).all() and (c16[..., 1] == 0).all()
    assert (c16[..., 2] == 128).all()
    # RGB order on request
    np.testing.assert_array_equal(
        load(paths['ok'], channel_order='rgb')['img'],
        load(paths['ok'])['img'][..., ::-1])
    assert load(paths['ok'], to_float32=True)['img'].dtype == np.float32


def test_exif_orientation_applied(odd_images):
    paths, _ = odd_images
    assert load(paths['exif'])['img'].shape == (32, 24, 3)


def test_loader_refuses_bad_arguments():
    with pytest.raises(
            ValueError,
            match="channel_order must be 'bgr' or "
            "'rgb', got 'bgra'"):
        RobustLoadImageFromFile(channel_order='bgra')
    with pytest.raises(
            ValueError,
            match=r'alpha_background must be 3 '
            r'integers in \[0, 255\]'):
        RobustLoadImageFromFile(alpha_background=(0, 0, 300))


def _demo_pipeline():
    cfg = Config.fromfile(DEMO)
    return copy.deepcopy(cfg.train_dataloader.dataset.pipeline)


def _build_pipeline(pipeline):
    from mmengine.dataset import Compose
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return Compose(pipeline)


def test_demo_and_imagenet_configs_use_the_robust_loader():
    assert _demo_pipeline()[0]['type'] == 'RobustLoadImageFromFile'
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'pirl',
                 'pirl_resnet50_8xb32-coslr-800e_in1k.py'))
    assert (cfg.train_dataloader.dataset.pipeline[0]['type'] ==
            'RobustLoadImageFromFile')
    assert [h['type'] for h in cfg.custom_hooks][:5] == [
        'BankUpdateHook', 'CollapseGuardHook', 'BankConsistencyHook',
        'RNGStateHook', 'SkippedImagesHook'
    ]
    assert cfg.default_hooks.preflight_checks.type == 'PreflightChecksHook'


@pytest.mark.parametrize('hw', [(20, 20), (1, 1), (3, 200)])
def test_small_images_are_upscaled_by_the_view_transform(tmp_path, hw):
    path = str(tmp_path / 'small.png')
    Image.fromarray(_rgb(*hw, seed=2)).save(path)
    pipeline = _build_pipeline(_demo_pipeline())
    np.random.seed(0)
    out = pipeline(dict(img_path=path, sample_idx=0))
    views = out['inputs']
    assert len(views) == 10
    assert tuple(views[0].shape) == (3, 64, 64)
    assert all(tuple(v.shape) == (3, 28, 28) for v in views[1:])
    # paper-size views from a 20 x 20 image
    from pirl_plugin.datasets.transforms import PIRLJigsawTransform
    img = load(path)['img']
    res = PIRLJigsawTransform()(dict(img=img))
    assert res['img'][0].shape == (224, 224, 3)
    assert all(v.shape == (64, 64, 3) for v in res['img'][1:])


def _dataset_with(folder, skip):
    from mmpretrain.registry import DATASETS
    pipeline = _demo_pipeline()
    pipeline[0]['skip_bad_images'] = skip
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return DATASETS.build(
            dict(
                type='CustomDataset',
                data_root=folder,
                with_label=False,
                pipeline=pipeline))


def test_dataset_stops_on_a_bad_file_by_default(odd_images):
    paths, _ = odd_images
    ds = _dataset_with(osp.dirname(paths['ok']), skip=False)
    bad = next(
        i for i in range(len(ds))
        if ds.get_data_info(i)['img_path'] == paths['truncated'])
    with pytest.raises(
            ImageDecodeError, match=re.escape(f"'{paths['truncated']}'")):
        ds[bad]
    # a good image of every odd kind goes through the whole pipeline
    for kind in ('gray', 'rgba', 'cmyk', 'gray16', 'rgb16', 'palette',
                 'bilevel', 'exif', 'tiny'):
        i = next(
            i for i in range(len(ds))
            if ds.get_data_info(i)['img_path'] == paths[kind])
        assert len(ds[i]['inputs']) == 10


def test_dataset_skips_and_records_bad_files_when_asked(odd_images, tmp_path):
    paths, _ = odd_images
    ds = _dataset_with(osp.dirname(paths['ok']), skip=True)
    loader = ds.pipeline.transforms[0]
    loader.skip_log_dir = str(tmp_path)
    bad = {paths[k] for k in ('truncated', 'truncated_png', 'text', 'empty')}
    bad_idx = [
        i for i in range(len(ds)) if ds.get_data_info(i)['img_path'] in bad
    ]
    assert len(bad_idx) == 4
    np.random.seed(0)
    for i in bad_idx:
        out = ds[i]  # another image is drawn in place of the bad one
        assert len(out['inputs']) == 10
        assert out['data_samples'].img_path not in bad
    entries = read_skip_lists(str(tmp_path), 'rank0')
    assert {p for p, _ in entries} <= bad and len(entries) >= 4
    assert loader.num_skipped == len(entries)
    assert any('image file is truncated' in r for _, r in entries)


# --------------------------------------------------------------------------
# datasets
# --------------------------------------------------------------------------
def test_empty_folder_is_refused_with_its_path(tmp_path):
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'notes.txt').write_text('not an image')
    cfg = dict(type='CustomDataset', data_root=str(tmp_path), with_label=False)
    with pytest.raises(DatasetConfigError) as exc:
        check_dataset_cfg(cfg)
    msg = str(exc.value)
    assert f"image folder '{tmp_path}'" in msg
    assert 'contains no images' in msg and '.jpg' in msg
    assert 'point data_root at a folder of images' in msg
    # mmpretrain's own message for the same folder, for comparison
    from mmpretrain.datasets import CustomDataset
    with pytest.raises(RuntimeError, match='Found 0 files'):
        CustomDataset(data_root=str(tmp_path), with_label=False)


def test_with_label_folder_without_class_subfolders(tmp_path):
    Image.fromarray(_rgb()).save(str(tmp_path / 'a.jpg'))
    with pytest.raises(
            DatasetConfigError,
            match='in its class subfolders.*set with_label=False'):
        check_dataset_cfg(dict(type='CustomDataset', data_root=str(tmp_path)))
    check_dataset_cfg(
        dict(type='CustomDataset', data_root=str(tmp_path),
             with_label=False))  # fine


def test_missing_folders_and_annotation_files(tmp_path):
    missing = str(tmp_path / 'nope')
    with pytest.raises(
            DatasetConfigError,
            match=re.escape(f"data_root {missing!r} is not a "
                            'folder')):
        check_dataset_cfg(dict(type='CustomDataset', data_root=missing))
    ann = osp.join(str(tmp_path), 'meta', 'train.txt')
    with pytest.raises(DatasetConfigError) as exc:
        check_dataset_cfg(
            dict(
                type='CustomDataset',
                data_root=str(tmp_path),
                ann_file='meta/train.txt'))
    assert f'annotation file {ann!r}' in str(exc.value)
    assert "train_dataloader.dataset.ann_file=''" in str(exc.value)
    os.makedirs(osp.dirname(ann))
    open(ann, 'w').write('\n\n')
    with pytest.raises(DatasetConfigError, match='lists no images'):
        check_dataset_cfg(
            dict(
                type='CustomDataset',
                data_root=str(tmp_path),
                ann_file='meta/train.txt'))
    # ImageNet: split -> data_prefix 'train'
    with pytest.raises(
            DatasetConfigError,
            match=re.escape(
                f"image folder {osp.join(str(tmp_path), 'val')!r}")):
        check_dataset_cfg(
            dict(type='ImageNet', data_root=str(tmp_path), split='val'))
    # wrappers are followed
    with pytest.raises(
            DatasetConfigError,
            match=r'train_dataloader\.dataset\.dataset\.data_root'):
        check_dataset_cfg(
            dict(
                type='RepeatDataset',
                times=2,
                dataset=dict(type='CustomDataset', data_root=missing)))


def test_shapes_dataset_passes_the_check(shapes_root):
    check_dataset_cfg(
        dict(
            type='CustomDataset',
            data_root=osp.join(shapes_root, 'train'),
            with_label=False))
    check_dataset_cfg(
        dict(type='CustomDataset', data_root=osp.join(shapes_root, 'train')))


# --------------------------------------------------------------------------
# config values, refused when the model / transform is built
# --------------------------------------------------------------------------
def _build_model(**overrides):
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(DEMO)
    mcfg = copy.deepcopy(cfg.model)
    mcfg.backbone.init_cfg = None
    for key, value in overrides.items():
        node = mcfg
        *path, last = key.split('.')
        for k in path:
            node = node[k]
        node[last] = value
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(mcfg)


@pytest.mark.parametrize('key,value,message', [
    ('head.loss_lambda', 1.5,
     'NCEHead loss_lambda must be in [0, 1], got 1.5'),
    ('head.loss_lambda', -0.1,
     'NCEHead loss_lambda must be in [0, 1], got -0.1'),
    ('head.temperature', 0.0, 'NCEHead temperature must be > 0, got 0.0'),
    ('head.temperature', -0.07, 'NCEHead temperature must be > 0, got -0.07'),
    ('head.loss_type', 'ncee',
     "NCEHead loss_type must be one of ('nce', 'infonce'), got 'ncee'"),
    ('head.num_negatives', 0,
     'NCEHead num_negatives must be a positive integer, got 0'),
    ('memory_bank.feat_dim', 64,
     'PIRL: the feature sizes disagree (neck (head f) = 128, '
     'transform_neck (head g) = 128, memory_bank.feat_dim = 64)'),
    ('neck.out_channels', 256,
     'PIRL: the feature sizes disagree (neck (head f) = 256, '
     'transform_neck (head g) = 128, memory_bank.feat_dim = 128)'),
    ('memory_bank.momentum', 1.0,
     'MemoryBank momentum must be in [0, 1), got 1.0'),
])
def test_bad_model_values_refused_at_build(key, value, message):
    with pytest.raises(ValueError) as exc:
        _build_model(**{key: value})
    assert message in str(exc.value)


def test_feature_size_message_says_what_to_set():
    with pytest.raises(ValueError) as exc:
        _build_model(**{'transform_neck.out_channels': 64})
    assert ('neck.out_channels, transform_neck.out_channels and '
            'memory_bank.feat_dim must be the same value') in str(exc.value)


@pytest.mark.parametrize('kw,message', [
    (dict(jigsaw_crop_size=96, grid_size=5),
     'jigsaw_crop_size (96) must be divisible by grid_size (5)'),
    (dict(jigsaw_crop_size=96, patch_size=40),
     'patch_size (40) must be in [1, 32]: a patch must fit in its cell of '
     '96 / 3 = 32 pixels'),
    (dict(patch_size=0), 'patch_size must be an integer >= 1, got 0'),
    (dict(grid_size=0), 'grid_size must be an integer >= 1, got 0'),
    (dict(jigsaw_crop_scale=(0.6, 1.2)),
     'jigsaw_crop_scale must satisfy 0 < min <= max <= 1, got (0.6, 1.2)'),
])
def test_bad_transform_values_refused_at_build(kw, message):
    from mmpretrain.registry import TRANSFORMS
    with pytest.raises(ValueError) as exc:
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            TRANSFORMS.build(dict(type='PIRLJigsawTransform', **kw))
    assert message in str(exc.value)


def _views(batch, num_patches, img=32, patch=16):
    g = torch.Generator().manual_seed(0)
    return [torch.rand(batch, 3, img, img, generator=g)] + [
        torch.rand(batch, 3, patch, patch, generator=g)
        for _ in range(num_patches)
    ]


def _samples(idx):
    from mmpretrain.structures import DataSample
    return [DataSample(metainfo=dict(sample_idx=i)) for i in idx]


def test_grid_that_disagrees_with_the_neck_is_refused():
    # a 2 x 2 grid gives 4 views, the neck expects 9: with 9 images the
    # 36 patch features would silently regroup into 4 images of 9
    model = _build_model(**{
        'memory_bank.num_samples': 20,
        'head.num_negatives': 8
    })
    with pytest.raises(
            ValueError,
            match=re.escape(
                'the view transform gives 4 transformed views per image but '
                'transform_neck.num_patches is 9')):
        model.loss(_views(9, 4), _samples(range(9)))


def test_non_finite_loss_stops_before_the_bank_is_touched():
    model = _build_model(**{
        'memory_bank.num_samples': 20,
        'head.num_negatives': 8
    })
    model.head.temperature = float('nan')  # every similarity becomes NaN
    bank = model.memory_bank.bank.clone()
    z = model.head.z.clone()
    with pytest.raises(FloatingPointError) as exc:
        model.loss(_views(2, 9), _samples([3, 7]))
    assert "PIRL: loss term 'loss_transform' is nan" in str(exc.value)
    assert 'Stopped before the memory bank and weights were updated' in str(
        exc.value)
    assert not model.memory_bank.has_pending_update
    assert torch.equal(model.memory_bank.bank, bank)
    assert int(model.memory_bank.num_updates) == 0
    assert torch.equal(model.head.z, z)  # the running Z stays clean too


# --------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------
def _evil_checkpoint(path):
    code = (
        'import os, sys, torch\n'
        'class Evil:\n'
        '    def __reduce__(self):\n'
        '        return (os.system, ("touch " + sys.argv[1] + ".pwned",))\n'
        'torch.save({"state_dict": {"x": torch.ones(1)}, "meta": '
        '{"epoch": 1, "iter": 1, "x": Evil()}}, sys.argv[1])\n')
    run_tool(['-c', code, path])


def test_checkpoint_helpers_refuse_code_truncation_and_other_models(tmp_path):
    from pirl_plugin.utils.checkpoints import (CheckpointError,
                                               check_resume_checkpoint)
    evil = str(tmp_path / 'evil.pth')
    _evil_checkpoint(evil)
    with pytest.raises(CheckpointError) as exc:
        check_resume_checkpoint(evil)
    assert f'refusing to load checkpoint {evil!r}' in str(exc.value)
    assert 'posix.system' in str(exc.value)
    assert 'weights_only` set to `False`' not in str(exc.value)
    assert 'could execute arbitrary code' in str(exc.value)
    assert not osp.exists(evil + '.pwned')

    good = str(tmp_path / 'pirl.pth')
    model = _build_model(**{'memory_bank.num_samples': 20})
    torch.save(
        dict(meta=dict(epoch=1, iter=5), state_dict=model.state_dict()), good)
    info = check_resume_checkpoint(good)
    assert info == dict(epoch=1, iter=5, bank_shape=(20, 128))

    trunc = str(tmp_path / 'trunc.pth')
    open(trunc, 'wb').write(open(good, 'rb').read()[:5000])
    with pytest.raises(
            CheckpointError,
            match=re.escape(f'cannot read checkpoint {trunc!r} (5000 bytes)')):
        check_resume_checkpoint(trunc)

    from mmpretrain.models import ImageClassifier
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        clf = ImageClassifier(
            backbone=dict(type='ResNet', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=512))
    other = str(tmp_path / 'classifier.pth')
    torch.save(
        dict(meta=dict(epoch=3, iter=9), state_dict=clf.state_dict()), other)
    with pytest.raises(CheckpointError) as exc:
        check_resume_checkpoint(other)
    assert f'{other!r} is not a PIRL checkpoint' in str(exc.value)
    assert 'a supervised classifier (MMPretrain ImageClassifier)' in str(
        exc.value)

    weights = str(tmp_path / 'weights.pth')
    torch.save(model.state_dict(), weights)
    with pytest.raises(CheckpointError, match="without a 'state_dict'"):
        check_resume_checkpoint(weights)
    torch.save(dict(state_dict=model.state_dict()), weights)
    with pytest.raises(CheckpointError, match='has no training state'):
        check_resume_checkpoint(weights)


def test_converter_refuses_other_algorithms_and_pickled_code(tmp_path):
    from pirl_to_backbone import main as convert_main

    # an MMDetection-style detector checkpoint has backbone.* keys too
    det = {
        f'backbone.{k}': v
        for k, v in _build_model().backbone.state_dict().items()
    }
    det['rpn_head.rpn_conv.weight'] = torch.zeros(1)
    det['roi_head.bbox_head.fc_cls.weight'] = torch.zeros(1)
    src = str(tmp_path / 'faster_rcnn.pth')
    torch.save(dict(meta=dict(epoch=1), state_dict=det), src)
    out = str(tmp_path / 'out.pth')
    with pytest.raises(SystemExit) as exc:
        convert_main([src, out])
    msg = str(exc.value.code)
    assert f'{src!r} is not a PIRL checkpoint: it has no memory bank' in msg
    assert 'looks like an MMDetection detector' in msg
    assert '--any-algorithm' in msg
    assert not osp.exists(out)
    convert_main([src, out, '--any-algorithm'])  # explicitly allowed
    assert osp.exists(out)
    assert torch.load(out)['meta']['algorithm'].startswith('unknown')

    evil = str(tmp_path / 'evil.pth')
    _evil_checkpoint(evil)
    with pytest.raises(SystemExit) as exc:
        convert_main([evil, str(tmp_path / 'out2.pth')])
    assert f'refusing to load checkpoint {evil!r}: it contains pickled ' \
        'objects outside the allowlist' in str(exc.value.code)
    assert not osp.exists(evil + '.pwned')
