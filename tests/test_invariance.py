"""The invariance analysis and the per-layer probe plot."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import REPO, run_tool
from torch import nn

# yapf: disable
from pirl_plugin.evaluation.invariance import (backbone_distances,
                                               center_patches,
                                               draw_permutations,
                                               head_distances, plot_histograms,
                                               rotate, shuffle_tiles,
                                               summarize)

# yapf: enable


class PooledColour(nn.Module):
    """Invariant by construction: a 1x1 convolution, so global average
    pooling sees the same multiset of pixels whatever the tile order or
    rotation."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)

    def forward(self, x):
        return (torch.relu(self.conv(x)), )


class Quadrants(nn.Module):
    """Not invariant: the mean of each image quadrant, stacked as channels,
    so moving content between quadrants changes the feature."""

    def forward(self, x):
        q = nn.functional.adaptive_avg_pool2d(x, 2)  # N, 3, 2, 2
        return (q.flatten(1)[:, :, None, None], )


@pytest.fixture
def images():
    torch.manual_seed(0)
    return torch.randn(12, 3, 30, 30)


def test_shuffle_tiles_moves_whole_tiles():
    x = torch.arange(2 * 1 * 6 * 6, dtype=torch.float).view(2, 1, 6, 6)
    ident = np.tile(np.arange(9), (2, 1))
    torch.testing.assert_close(shuffle_tiles(x, ident), x)
    perms = draw_permutations(2, 9, seed=3)
    y = shuffle_tiles(x, perms)
    for n in range(2):
        for k, cell in enumerate(perms[n]):
            r, c = divmod(int(cell), 3)
            sr, sc = divmod(k, 3)
            torch.testing.assert_close(
                y[n, 0, 2 * sr:2 * sr + 2, 2 * sc:2 * sc + 2],
                x[n, 0, 2 * r:2 * r + 2, 2 * c:2 * c + 2])
    assert not any((p == np.arange(9)).all() for p in draw_permutations(50))


def test_center_patches_are_cell_centres():
    x = torch.arange(9 * 9, dtype=torch.float).view(1, 1, 9, 9)
    p = center_patches(x, 3, 1)
    assert p.shape == (1, 9, 1, 1, 1)
    assert p.flatten().tolist() == [10, 13, 16, 37, 40, 43, 64, 67, 70]


@pytest.mark.parametrize('transform', ['jigsaw', 'rotation'])
def test_invariant_model_has_zero_distance(images, transform):
    d = backbone_distances(PooledColour(), images, transform)
    assert d.shape == (12, )
    assert d.abs().max() < 1e-5


@pytest.mark.parametrize('transform', ['jigsaw', 'rotation'])
def test_position_sensitive_model_is_not_invariant(images, transform):
    d = backbone_distances(Quadrants(), images, transform)
    assert (d > 1e-3).all()
    assert d.mean() > 0.1
    # the same seed gives the same t(I), so the same distances
    torch.testing.assert_close(
        d, backbone_distances(Quadrants(), images, transform))


def test_bad_settings_are_refused(images):
    with pytest.raises(ValueError, match="transform must be one of"):
        backbone_distances(PooledColour(), images, 'colour')
    with pytest.raises(ValueError, match='divisible'):
        backbone_distances(PooledColour(), images[..., :29], 'jigsaw')
    with pytest.raises(ValueError, match='square'):
        backbone_distances(PooledColour(), images[..., :27], 'rotation')


class ToyPIRL(nn.Module):
    """Heads f and g that ignore the patch order and pixel layout: f(I) is
    the mean colour of the image and g the mean colour of the patches, so
    for the centre-crop views of a constant image they agree exactly."""

    def __init__(self):
        super().__init__()
        self.backbone = PooledColour()
        self.neck = lambda feats: (feats[-1].mean(dim=(2, 3)), )
        self.transform_neck = _MeanOverPatches()


class _MeanOverPatches(nn.Module):
    num_patches = 9

    def forward(self, feats):
        x = feats[-1].mean(dim=(2, 3))
        return (x.view(-1, 9, x.size(1)).mean(1), )


def test_head_distances_zero_for_invariant_heads():
    x = torch.ones(4, 3, 1, 1) * torch.randn(4, 3, 1, 1)
    img, crop = x.expand(-1, -1, 16, 16), x.expand(-1, -1, 12, 12)
    d = head_distances(ToyPIRL(), img, crop, 'jigsaw', grid=3, patch=2)
    assert d.abs().max() < 1e-5
    with pytest.raises(ValueError, match="not for the 'rotation'"):
        head_distances(ToyPIRL(), img, crop, 'rotation')
    with pytest.raises(ValueError, match='needs a PIRL model'):
        head_distances(nn.Module(), img, crop, 'jigsaw')


def test_summary_and_plot(tmp_path, images):
    dists = {
        'invariant': backbone_distances(PooledColour(), images),
        'quadrants': backbone_distances(Quadrants(), images)
    }
    st = summarize(dists['quadrants'])
    assert st['num_images'] == 12
    assert st['min'] <= st['p25'] <= st['median'] <= st['p75'] <= st['max']
    assert summarize(dists['invariant'])['max'] < 1e-5
    out = str(tmp_path / 'h.png')
    plot_histograms(dists, out, title='t')
    assert open(out, 'rb').read(8) == b'\x89PNG\r\n\x1a\n'
    assert rotate(images[:2], [90, 180]).shape == (2, 3, 30, 30)


@pytest.mark.slow
def test_invariance_tool_end_to_end(shapes_root, tmp_path):
    out = str(tmp_path / 'inv')
    proc = run_tool([
        'tools/analysis/invariance.py', '--model', 'PIRL',
        osp.join(REPO, 'configs', 'pirl',
                 'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py'), 'none',
        '--model', 'Jigsaw',
        osp.join(REPO, 'configs', 'jigsaw',
                 'jigsaw_resnet18_1xb64-coslr-20e_shapes-demo.py'), 'none',
        '--images',
        osp.join(shapes_root, 'test'), '--img-size', '48', '--repr',
        'backbone', 'heads', '--max-images', '8', '--out-dir', out
    ])
    summary = json.load(open(osp.join(out, 'invariance_jigsaw.json')))
    reps = summary['representations']
    assert set(reps['backbone']['models']) == {'PIRL', 'Jigsaw'}
    assert reps['backbone']['models']['PIRL']['num_images'] == 8
    assert set(reps['heads']['models']) == {'PIRL'}
    assert 'Jigsaw' in reps['heads']['skipped']
    for r in ('backbone', 'heads'):
        assert osp.isfile(osp.join(out, f'invariance_jigsaw_{r}.png'))
    assert '[backbone] PIRL: mean' in proc.stdout
    bad = run_tool([
        'tools/analysis/invariance.py', '--model', 'x', 'configs/nope.py',
        'none', '--images', shapes_root
    ],
                   check=False)
    assert bad.returncode != 0 and "config 'configs/nope.py' not found" in \
        bad.stderr


def test_layer_probe_plot_reads_scalars(tmp_path):
    import plot_layer_probe as plp
    work = tmp_path / 'work' / '20260101_000000' / 'vis_data'
    work.mkdir(parents=True)
    rows = [
        dict(loss=1.0, step=1), {
            'layer_top1/conv1': 10.0,
            'layer_top1/res5': 30.0,
            'layer_top1/best': 30.0,
            'layer_top5/conv1': 40.0,
            'step': 1
        }, {
            'layer_top1/conv1': 12.0,
            'layer_top1/res2': 20.0,
            'layer_top1/res5': 35.0,
            'layer_top1/best': 35.0,
            'step': 2
        }
    ]
    (work / 'scalars.json').write_text('\n'.join(json.dumps(r)
                                                 for r in rows) + '\n')
    vals = plp.read_layer_metrics(str(tmp_path / 'work'))
    assert list(vals.items()) == [('conv1', 12.0), ('res2', 20.0),
                                  ('res5', 35.0)]
    assert plp.read_layer_metrics(
        str(work / 'scalars.json'), step=1)['res5'] == 30.0
    assert plp.read_layer_metrics(
        str(work / 'scalars.json'), topk=5) == {
            'conv1': 40.0
        }
    metrics = tmp_path / 'metrics.json'
    metrics.write_text(json.dumps({'layer_top1/res4': 50.0}))
    out = str(tmp_path / 'plot.png')
    runs = plp.main([
        '--run', 'A',
        str(tmp_path / 'work'), '--run', 'B',
        str(metrics), '--paper', '--out', out
    ])
    assert set(runs) == {'A', 'B', 'PIRL R50 ImageNet (paper)'}
    assert osp.isfile(out) and osp.isfile(out[:-4] + '.json')
    with pytest.raises(ValueError, match='no layer_top1'):
        plp.read_layer_metrics(str(metrics), step=3)


@pytest.fixture(autouse=True, scope='module')
def _analysis_on_path():
    import sys
    path = osp.join(REPO, 'tools', 'analysis')
    sys.path.insert(0, path)
    yield
    sys.path.remove(path)


def _invariance_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'tool_invariance', osp.join(REPO, 'tools', 'analysis',
                                    'invariance.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_untrained_model_entries_name_their_init():
    tool = _invariance_tool()
    assert tool.model_entry('a', 'c.py', 'none') == ('a', 'c.py', None, None)
    assert tool.model_entry('a', 'c.py',
                            'None:standard') == ('a', 'c.py', None, 'standard')
    assert tool.model_entry('a', 'c.py', 'none:zero_init')[3] == 'zero_init'
    assert tool.model_entry('a', 'c.py',
                            'x.pth') == ('a', 'c.py', 'x.pth', None)
    with pytest.raises(SystemExit, match='none:standard or none:zero_init'):
        tool.model_entry('a', 'c.py', 'none:kaiming')


@pytest.mark.parametrize('init, zero', [('standard', False),
                                        ('zero_init', True), (None, True)])
def test_untrained_model_is_built_at_its_init(init, zero):
    """The demo config's ResNet has ``zero_init_residual=True``: the last
    BatchNorm of every residual branch starts at weight 0 there, at 1 at
    the standard init."""
    tool = _invariance_tool()
    config = osp.join(REPO, 'configs', 'pirl',
                      'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')
    _, model = tool.build_model(config, None, init)
    last_bn = model.backbone.layer1[0].norm2.weight
    assert bool((last_bn == 0).all()) is zero
