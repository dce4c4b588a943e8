"""VISSL <-> PIRL checkpoint converters on VISSL's real layout.

The checkpoints are random tensors in the layout VISSL 0.1.6's own code
builds (tests/data/vissl_pirl_layout.json, made by
tests/data/make_vissl_manifest.py).
"""
import glob
import importlib
import os.path as osp
import sys

import pytest
import torch
from conftest import REPO, run_tool
from mmengine.config import Config
from mmengine.registry import DefaultScope

import pirl_plugin  # noqa: F401  registers PIRL, allowlists classes
from pirl_plugin.utils.resnet_weights import ConversionError
from pirl_plugin.utils.vissl_convert import (convert_from_vissl,
                                             convert_to_vissl)

sys.path.insert(0, osp.join(REPO, 'tests', 'helpers'))
vissl_layout = importlib.import_module('vissl_layout')
flat_tensors = vissl_layout.flat_tensors
make_vissl_checkpoint = vissl_layout.make_vissl_checkpoint
manifest = vissl_layout.manifest
trunk_and_heads = vissl_layout.trunk_and_heads

MODELS_DIR = osp.join(REPO, 'configs', '_base_', 'models')
MODEL_CONFIGS = {
    'resnet50': 'pirl_r50.py',
    'resnet50_mlphead': 'pirl_r50_mlphead.py',
    'resnet50_w2': 'pirl_r50w2.py',
    'resnet50_w2_mlphead': 'pirl_r50w2_mlphead.py',
}
WIDE = [
    pytest.param(a, marks=pytest.mark.slow) for a in MODEL_CONFIGS
    if '_w2' in a
]
ARCHS = ['resnet50', 'resnet50_mlphead'] + WIDE
DEMO = osp.join(REPO, 'configs', 'pirl',
                'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')


def convert(tmp_path, arch, rows=300, z=-1.0):
    """Save a random VISSL checkpoint, convert it; return the paths."""
    vissl = make_vissl_checkpoint(arch, rows=rows, z=z)
    src = str(tmp_path / 'vissl.torch')
    torch.save(vissl, src)
    bb, full = str(tmp_path / 'backbone.pth'), str(tmp_path / 'full.pth')
    info = convert_from_vissl(src, bb, full, arch=arch)
    return vissl, src, bb, full, info


def build_pirl(arch, rows=300):
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(osp.join(MODELS_DIR, MODEL_CONFIGS[arch]))
    cfg.model.memory_bank.num_samples = rows
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg.model)


def test_manifest_is_vissl_output():
    """The manifest holds what VISSL built: 4 zoo models, torchvision names
    under _feature_blocks., both heads, the loss state with the bank."""
    m = manifest()
    assert m['vissl_version'].startswith('0.1.6')
    assert sorted(m['variants']) == sorted(MODEL_CONFIGS)
    import torchvision
    tv = torchvision.models.resnet50().state_dict()
    r50 = m['variants']['resnet50']['tensors']
    trunk = {k.split('/')[-1]: v for k, v in r50.items() if '/trunk/' in k}
    assert trunk == {
        f'_feature_blocks.{k}': [list(v.shape),
                                 str(v.dtype)[6:]]
        for k, v in tv.items() if not k.startswith('fc.')
    }
    assert r50['loss/nce_average.memory'][0] == [300, 128]


@pytest.mark.parametrize('arch', ARCHS)
def test_round_trip_is_bit_exact_and_loads_strictly(arch, tmp_path):
    vissl, src, bb, full, info = convert(tmp_path, arch, z=12345.678)
    assert info['arch'] == arch and info['bank_shape'] == (300, 128)
    back = str(tmp_path / 'back.torch')
    assert convert_to_vissl(full, back)['arch'] == arch
    want = flat_tensors(vissl)
    got = flat_tensors(torch.load(back, weights_only=True))
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        assert got[key].dtype == value.dtype, key
        assert torch.equal(got[key], value), key
    # our PIRL model of the same architecture takes every tensor
    ours = torch.load(full, weights_only=True)
    model = build_pirl(arch)
    model.load_state_dict(ours['state_dict'], strict=True)
    assert model.head.z.tolist() == [float(torch.tensor(12345.678))] * 2
    trunk, _ = trunk_and_heads(vissl)
    backbone = torch.load(bb, weights_only=True)['state_dict']
    assert list(backbone) == [k[len('_feature_blocks.'):] for k in trunk]


def _vissl_head(heads, head, module, x, relus):
    """VISSL's ``mlp`` head: Linear layers at clf.<i>, a ReLU after each
    layer index listed in ``relus``."""
    idx = sorted({
        int(k.split('.')[3])
        for k in heads if k.startswith(f'{head}.{module}.clf.')
    })
    for i in idx:
        p = f'{head}.{module}.clf.{i}.'
        x = x @ heads[p + 'weight'].t() + heads[p + 'bias']
        if i in relus:
            x = x.clamp(min=0)
    return x


@pytest.mark.parametrize('arch,f_relus,g_relus', [
    ('resnet50', (), ()),
    ('resnet50_mlphead', (0, ), (0, 2)),
])
def test_features_match_vissl_semantics(arch, f_relus, g_relus, tmp_path):
    """Backbone, f and g of the converted model equal VISSL's computation
    (torchvision's ResNet on the trunk tensors, the heads written from
    vissl/models/heads/mlp.py and siamese_concat_view)."""
    import torchvision
    from mmpretrain.models.backbones import ResNet
    vissl, _, bb, full, _ = convert(tmp_path, arch)
    trunk, heads = trunk_and_heads(vissl)
    tv = torchvision.models.resnet50()
    tv.fc = torch.nn.Identity()
    tv.load_state_dict(
        {k[len('_feature_blocks.'):]: v
         for k, v in trunk.items()})
    resnet = ResNet(depth=50, init_cfg=dict(type='Pretrained', checkpoint=bb))
    resnet.init_weights()
    model = build_pirl(arch)
    model.load_state_dict(torch.load(full, weights_only=True)['state_dict'])
    for m in (tv, resnet, model):
        m.eval()
    x = torch.randn(18, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = tv.maxpool(tv.relu(tv.bn1(tv.conv1(x))))
        ref = tv.layer4(tv.layer3(tv.layer2(tv.layer1(y))))
        torch.testing.assert_close(resnet(x)[0], ref)
        feat = model.backbone(x)
        torch.testing.assert_close(feat[0], ref)
        pooled = ref.mean(dim=(2, 3))
        f_ref = _vissl_head(heads, 1, 0, pooled, f_relus)
        torch.testing.assert_close(model.neck(feat)[0], f_ref)
        g = _vissl_head(heads, 0, 0, pooled, g_relus).reshape(2, 9 * 128)
        g_ref = _vissl_head(heads, 0, 2, g, ())
        torch.testing.assert_close(model.transform_neck(feat)[0], g_ref)


@pytest.mark.slow
def test_converted_model_trains_from_the_bank(shapes_root, tmp_path):
    """tools/train.py with load_from=the converted model (ResNet-50, linear
    heads) trains 1 epoch on the 60-image demo set, starting from the
    authors' bank and weights (not random ones)."""
    _, _, _, full, _ = convert(tmp_path, 'resnet50', rows=60)
    work = str(tmp_path / 'work')
    run_tool([
        'tools/train.py', DEMO, '--work-dir', work, '--cfg-options',
        f'train_dataloader.dataset.data_root={shapes_root}/train',
        'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
        'model.head.num_negatives=16', 'train_cfg.max_epochs=1',
        'param_scheduler.0.T_max=1', 'param_scheduler.0.end=1',
        'default_hooks.checkpoint.interval=1', 'model.backbone.depth=50',
        'model.backbone.zero_init_residual=False',
        'model.neck.in_channels=2048', 'model.transform_neck.in_channels=2048',
        'optim_wrapper.optimizer.lr=0.001', f'load_from={full}'
    ])
    start = torch.load(full, weights_only=True)['state_dict']
    end = torch.load(osp.join(work, 'epoch_1.pth'))['state_dict']
    log = open(glob.glob(osp.join(work, '*', '*.log'))[0]).read()
    assert 'missing keys' not in log and 'unexpected key' not in log
    assert 'loss_transform' in log
    sim = torch.cosine_similarity(
        start['memory_bank.bank'], end['memory_bank.bank'], dim=1)
    assert sim.mean() > 0.4  # updated rows m <- norm(m/2 + f/2); random ~0
    assert not torch.equal(start['memory_bank.bank'], end['memory_bank.bank'])
    for key in ('backbone.conv1.weight', 'neck.fc.weight',
                'transform_neck.fc.weight'):
        w0, w1 = start[key], end[key]  # trained on from the authors'
        assert not torch.equal(w0, w1), key
        assert torch.cosine_similarity(
            w0.flatten(), w1.flatten(), dim=0) > 0.9, key


def test_errors_are_one_line(tmp_path):
    vissl = make_vissl_checkpoint('resnet50')

    def error_of(obj=None, path=None, arch=None):
        if path is None:
            path = str(tmp_path / 'in.torch')
            torch.save(obj, path)
        with pytest.raises(ConversionError) as exc:
            convert_from_vissl(path, str(tmp_path / 'out.pth'), arch=arch)
        assert '\n' not in str(exc.value)
        return str(exc.value)

    # another method: SimCLR-style single head, no memory bank
    other = dict(vissl, loss={})
    other['classy_state_dict'] = dict(vissl['classy_state_dict'])
    other['classy_state_dict']['base_model'] = {
        'model': {
            'trunk': trunk_and_heads(vissl)[0],
            'heads': {
                '0.clf.0.weight': torch.zeros(2048, 2048),
                '0.clf.2.weight': torch.zeros(128, 2048)
            }
        }
    }
    assert 'model of another method' in error_of(other)
    # a ResNet-101 trunk
    import torchvision
    deep = dict(vissl)
    deep['classy_state_dict'] = {
        'base_model': {
            'model': {
                'trunk': {
                    f'_feature_blocks.{k}': v
                    for k, v in
                    torchvision.models.resnet101().state_dict().items()
                    if not k.startswith('fc.')
                },
                'heads': trunk_and_heads(vissl)[1]
            }
        }
    }
    assert 'ResNet-101' in error_of(deep)
    # the wrong width for --arch
    msg = error_of(vissl, arch='resnet50_w2')
    assert 'holds a PIRL resnet50 ' in msg and 'not resnet50_w2' in msg
    # our own MMEngine checkpoint
    assert 'MMEngine checkpoint' in error_of({'state_dict': {}, 'meta': {}})
    # truncated file
    src = str(tmp_path / 'full.torch')
    torch.save(vissl, src)
    cut = str(tmp_path / 'cut.torch')
    with open(src, 'rb') as f, open(cut, 'wb') as g:
        g.write(f.read()[:100000])
    assert 'truncated' in error_of(path=cut)
    # a pickle outside the allowlist
    import argparse
    assert 'refusing to load' in error_of(
        dict(vissl, args=argparse.Namespace(lr=0.1)))
    # the command line: exit status 1 and one line on stderr
    proc = run_tool([
        'tools/model_converters/vissl_to_pirl.py', cut, '--backbone',
        str(tmp_path / 'b.pth')
    ],
                    check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith('vissl_to_pirl: error: cannot read')
    assert proc.stderr.count('\n') == 1


@pytest.mark.slow
def test_command_line_both_ways(tmp_path):
    vissl = make_vissl_checkpoint('resnet50_mlphead', rows=50)
    src = str(tmp_path / 'vissl.torch')
    torch.save(vissl, src)
    full = str(tmp_path / 'full.pth')
    proc = run_tool([
        'tools/model_converters/vissl_to_pirl.py', src, '--full', full,
        '--backbone',
        str(tmp_path / 'bb.pth')
    ])
    assert 'VISSL PIRL resnet50_mlphead' in proc.stdout
    assert 'pirl_resnet50_8xb32-mlphead-coslr-800e_in1k.py' in proc.stdout
    back = str(tmp_path / 'back.torch')
    proc = run_tool(['tools/model_converters/pirl_to_vissl.py', full, back])
    assert 'resnet50_mlphead' in proc.stdout and '(50, 128)' in proc.stdout
    got = flat_tensors(torch.load(back, weights_only=True))
    for key, value in flat_tensors(vissl).items():
        assert torch.equal(got[key], value), key


@pytest.mark.parametrize('arch', ['resnet50', 'resnet50_mlphead'])
def test_our_run_converts_to_the_vissl_layout(arch, tmp_path):
    """A checkpoint of our training (no VISSL origin) gives exactly the keys,
    shapes and dtypes VISSL's code builds, and VISSL's loss parameters."""
    model = build_pirl(arch, rows=300)
    state = model.state_dict()
    state['head.z'] = torch.tensor([2.5e4, 2.7e4], dtype=torch.float64)
    src = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': state, 'meta': {'epoch': 1, 'iter': 10}}, src)
    dst = str(tmp_path / 'ours.torch')
    convert_to_vissl(src, dst, num_negatives=4096, temperature=0.1)
    got = flat_tensors(torch.load(dst, weights_only=True))
    want = manifest()['variants'][arch]['tensors']
    assert {k: [list(v.shape), str(v.dtype)[6:]]
            for k, v in got.items()} == want
    params = got['loss/nce_average.params']
    torch.testing.assert_close(params, torch.tensor([4096, 0.1, 2.5e4, 0.5]))
    assert torch.equal(got['classy_state_dict/loss/nce_average.memory'],
                       state['memory_bank.bank'])
    assert (got['loss/nce_average.multinomial.prob'] == 1).all()
    assert (got['loss/nce_average.multinomial.alias'] == 0).all()


@pytest.mark.slow
def test_w2_backbone_loads_into_linear_and_detection_configs(tmp_path):
    from mmpretrain.registry import MODELS
    _, _, bb, full, _ = convert(tmp_path, 'resnet50_w2', rows=20)
    want = torch.load(bb, weights_only=True)['state_dict']
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'benchmarks', 'mmpretrain',
                 'pirl_resnet50w2_8xb32-linear-steplr-28e_in1k.py'))
    cfg.model.backbone.init_cfg.checkpoint = full  # prefix 'backbone.'
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        linear = MODELS.build(cfg.model)
    linear.init_weights()
    got = linear.backbone.state_dict()
    assert sorted(got) == sorted(want)
    for k, v in got.items():
        assert torch.equal(v, want[k]), k

    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    from det_train import check_pretrained, set_pretrained
    from mmdet.registry import MODELS as DET_MODELS
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'benchmarks', 'mmdetection', 'voc0712',
                 'faster-rcnn_r50w2-c4_8xb2-25k_voc0712.py'))
    assert check_pretrained(bb, cfg) == 50
    set_pretrained(cfg, bb)
    import pirl_plugin.models.detection  # noqa: F401  WideResLayer
    with DefaultScope.overwrite_default_scope('mmdet'):
        det = DET_MODELS.build(cfg.model)
        det.init_weights()
    backbone = det.backbone.state_dict()
    res5 = det.roi_head.shared_head.state_dict()
    assert set(backbone) | set(res5) == set(want)  # nothing missing/extra
    for k, v in list(backbone.items()) + list(res5.items()):
        assert torch.equal(v, want[k]), k
    x = torch.randn(1, 3, 64, 64)
    det.eval()
    with torch.no_grad():
        assert det.backbone(x)[0].shape[1] == 2048
        assert det.roi_head.shared_head(det.backbone(x)[0]).shape[1] == 4096
