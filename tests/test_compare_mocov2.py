"""tools/analysis/compare_mocov2.py end to end on tiny data, and the
small-data pieces it relies on (digits generator, MoCo v2 configs)."""
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOL = osp.join(REPO, 'tools', 'analysis', 'compare_mocov2.py')


def _load_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location('compare_mocov2', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_mean_pairwise_cosine_matches_the_definition():
    tool = _load_tool()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 5))
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = u @ u.T
    expected = (sims.sum() - np.trace(sims)) / (7 * 6)
    assert tool.mean_pairwise_cosine(x) == pytest.approx(expected, abs=1e-12)
    # collapsed rows: 1
    assert tool.mean_pairwise_cosine(np.ones((4, 3))) == pytest.approx(1.0)


def test_digits_dataset_layout_and_idempotence(tmp_path):
    import cv2

    from pirl_plugin.datasets.digits import make_digits_dataset
    root = str(tmp_path / 'digits')
    counts = make_digits_dataset(root, size=32, test_fraction=0.25)
    assert counts['train'] + counts['test'] == 1797
    assert counts['test'] == pytest.approx(0.25 * 1797, abs=10)
    classes = sorted(p.name for p in (tmp_path / 'digits' / 'test').iterdir())
    assert classes == [str(d) for d in range(10)]
    first = sorted((tmp_path / 'digits' / 'train' / '3').iterdir())[0]
    img = cv2.imread(str(first), cv2.IMREAD_COLOR)
    assert img.shape == (32, 32, 3) and img.max() > 200
    # the padded border is background
    assert img[0].max() < 40 and img[:, 0].max() < 40
    mtime = first.stat().st_mtime_ns
    assert make_digits_dataset(root, size=32, test_fraction=0.25) == counts
    assert first.stat().st_mtime_ns == mtime  # kept, not rewritten


def test_mocov2_configs_match_the_pirl_budget():
    from mmengine.config import Config
    pirl = Config.fromfile(
        osp.join(REPO, 'configs', 'pirl',
                 'pirl_resnet18w16_1xb64-coslr-20e_shapes-demo.py'))
    moco = Config.fromfile(
        osp.join(REPO, 'configs', 'mocov2',
                 'mocov2_resnet18w16_1xb64-coslr-20e_shapes-demo.py'))
    assert moco.model.type == 'MoCo'
    for key in ('depth', 'stem_channels', 'base_channels'):
        assert moco.model.backbone[key] == pirl.model.backbone[key]
    assert moco.optim_wrapper == pirl.optim_wrapper
    assert moco.param_scheduler == pirl.param_scheduler
    assert moco.train_cfg == pirl.train_cfg
    assert moco.train_dataloader.batch_size == \
        pirl.train_dataloader.batch_size
    assert moco.model.queue_len % moco.train_dataloader.batch_size == 0
    assert moco.model.head.temperature == 0.2
    hooks = [h['type'] for h in moco.custom_hooks]
    assert 'MemoryBankHook' not in hooks
    assert 'BankUpdateHook' not in hooks
    # mmcv's ColorJitter(hue > 0) crashes under numpy 2
    views = moco.train_dataloader.dataset.pipeline[1]['transforms'][0]
    assert 'ColorJitter' not in [t['type'] for t in views]
    digits = Config.fromfile(
        osp.join(REPO, 'configs', 'mocov2',
                 'mocov2_resnet18w16_1xb64-coslr-32e_digits.py'))
    assert digits.train_cfg.max_epochs == 32
    assert digits.param_scheduler[0]['T_max'] == 32


def test_pirl_digits_preset_matches_the_mocov2_digits_budget():
    """The small-data preset and the MoCo v2 config it is compared with
    train the same network for the same iterations on the same views."""
    from mmengine.config import Config
    pirl = Config.fromfile(
        osp.join(REPO, 'configs', 'pirl',
                 'pirl_resnet18w16_1xb64-coslr-32e_digits.py'))
    moco = Config.fromfile(
        osp.join(REPO, 'configs', 'mocov2',
                 'mocov2_resnet18w16_1xb64-coslr-32e_digits.py'))
    assert pirl.model.type == 'PIRL' and moco.model.type == 'MoCo'
    for key in ('depth', 'stem_channels', 'base_channels'):
        assert pirl.model.backbone[key] == moco.model.backbone[key]
    assert pirl.optim_wrapper == moco.optim_wrapper
    assert pirl.param_scheduler == moco.param_scheduler
    assert pirl.train_cfg == moco.train_cfg == dict(
        type='EpochBasedTrainLoop', max_epochs=32)
    assert pirl.train_dataloader.batch_size == \
        moco.train_dataloader.batch_size == 64
    assert pirl.train_dataloader.dataset.data_root == \
        moco.train_dataloader.dataset.data_root == 'data/digits/train'
    view = pirl.train_dataloader.dataset.pipeline[1]
    crop = moco.train_dataloader.dataset.pipeline[1]['transforms'][0][0]
    assert view['type'] == 'PIRLJigsawTransform'
    assert view['img_size'] == crop['scale'] == 32
    assert view['patch_size'] <= view['jigsaw_crop_size'] // 3
    # the bank (1,257 digits) must hold more entries than N
    assert pirl.model.head.num_negatives < 1257
    assert 'BankUpdateHook' in [h['type'] for h in pirl.custom_hooks]


@pytest.mark.slow
def test_compare_tool_end_to_end_on_tiny_data(tmp_path):
    from pirl_plugin.datasets.synthetic import make_shapes_dataset
    data = str(tmp_path / 'data')
    make_shapes_dataset(data, train_per_class=6, test_per_class=3, size=64)
    work = str(tmp_path / 'work')
    png = str(tmp_path / 'copy.png')
    proc = subprocess.run([
        sys.executable, TOOL, '--data-root', data, '--work-dir', work,
        '--tiny', '--png', png
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(osp.join(work, 'compare_result.json')) as f:
        result = json.load(f)
    assert set(result['methods']) == {'pirl', 'mocov2', 'random'}
    assert result['budget'] == dict(
        batch_size=8, epochs=1, iters_per_epoch=7, iterations=7)
    for name, res in result['methods'].items():
        assert 0 <= res['knn_top1'] <= 100 and 0 <= res['linear_top1'] <= 100
    pirl, moco = result['methods']['pirl'], result['methods']['mocov2']
    # the bank / queue were fitted to 60 training images
    assert -1 <= pirl['bank_pairwise_sim'] <= 1
    assert -1 <= moco['queue_pairwise_sim'] <= 1
    assert 'bank_feat_sim' in pirl
    assert any('num_negatives' in n for n in result['notes'])
    assert any('queue_len' in n for n in result['notes'])
    # both trained the same number of iterations and logged a kNN curve
    assert pirl['knn_curve'] and moco['knn_curve']
    assert pirl['knn_curve'][-1]['epoch'] == moco['knn_curve'][-1]['epoch']
    # one evaluation path: the final kNN figure is the curve's last point
    # (the monitor ran at the last epoch on the trained model)
    for res in (pirl, moco):
        assert res['knn_top1'] == pytest.approx(
            res['knn_curve'][-1]['knn_top1'], abs=1e-6)
    assert osp.getsize(osp.join(work, 'compare_result.png')) > 10000
    assert osp.getsize(png) > 10000
    table = open(osp.join(work, 'compare_result.md')).read()
    assert '| pirl |' in table and '| mocov2 |' in table
    assert '| random |' in table
    # the MoCo run used the PIRL run's backbone and schedule
    from mmengine.config import Config
    cp = Config.fromfile(osp.join(work, 'pirl', 'run_config.py'))
    cm = Config.fromfile(osp.join(work, 'mocov2', 'run_config.py'))
    assert cm.model.backbone == cp.model.backbone
    assert cm.optim_wrapper == cp.optim_wrapper
    assert cm.train_dataloader.batch_size == cp.train_dataloader.batch_size
