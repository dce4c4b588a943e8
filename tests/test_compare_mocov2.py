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
    from pirl_plugin.evaluation.probe import mean_pairwise_cosine
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 5))
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = u @ u.T
    expected = (sims.sum() - np.trace(sims)) / (7 * 6)
    assert mean_pairwise_cosine(x) == pytest.approx(expected, abs=1e-12)
    # collapsed rows: 1
    assert mean_pairwise_cosine(np.ones((4, 3))) == pytest.approx(1.0)


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


@pytest.mark.parametrize('epochs', [32, 253])
def test_pirl_digits_preset_matches_the_mocov2_digits_budget(epochs):
    """The small-data presets and the MoCo v2 configs they are compared
    with train the same network for the same iterations on the same
    views."""
    from mmengine.config import Config
    pirl = Config.fromfile(
        osp.join(REPO, 'configs', 'pirl',
                 f'pirl_resnet18w16_1xb64-coslr-{epochs}e_digits.py'))
    moco = Config.fromfile(
        osp.join(REPO, 'configs', 'mocov2',
                 f'mocov2_resnet18w16_1xb64-coslr-{epochs}e_digits.py'))
    assert pirl.model.type == 'PIRL' and moco.model.type == 'MoCo'
    for key in ('depth', 'stem_channels', 'base_channels'):
        assert pirl.model.backbone[key] == moco.model.backbone[key]
    if epochs == 253:  # both from the standard init
        assert pirl.model.backbone.zero_init_residual is False
        assert moco.model.backbone.zero_init_residual is False
    assert pirl.optim_wrapper == moco.optim_wrapper
    assert pirl.param_scheduler == moco.param_scheduler
    assert pirl.param_scheduler[0]['T_max'] == epochs
    assert pirl.train_cfg == moco.train_cfg == dict(
        type='EpochBasedTrainLoop', max_epochs=epochs)
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


def test_long_digits_preset_is_the_budget_sweeps_longest_run():
    """The 253-epoch preset trains what ``compare_mocov2.py --budgets
    4800 --inits standard`` trained from the 32-epoch one (its figures in
    docs/small_data.md come from those runs): the same model, optimiser,
    schedule and views."""
    from mmengine.config import Config

    from pirl_plugin.evaluation.untrained import INITS
    from pirl_plugin.utils.comparison_configs import fit_schedule
    short = Config.fromfile(
        osp.join(REPO, 'configs', 'pirl',
                 'pirl_resnet18w16_1xb64-coslr-32e_digits.py'))
    long = Config.fromfile(
        osp.join(REPO, 'configs', 'pirl',
                 'pirl_resnet18w16_1xb64-coslr-253e_digits.py'))
    fit_schedule(short, 4807 // 19)
    short.model.backbone.zero_init_residual = INITS['standard']
    assert INITS['standard'] is False
    for key in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg'):
        assert short[key] == long[key], key
    assert short.train_dataloader == long.train_dataloader


def test_untrained_init_names():
    from pirl_plugin.evaluation.untrained import (backbone_init,
                                                  untrained_inits, with_init)
    zero = dict(backbone=dict(type='ResNet', depth=18))  # MMPretrain: True
    std = dict(backbone=dict(type='ResNet', zero_init_residual=False))
    assert backbone_init(zero) == 'zero_init'
    assert backbone_init(std) == 'standard'
    assert untrained_inits(zero) == ['standard', 'zero_init']
    assert untrained_inits(std) == ['standard']
    changed = with_init(zero, 'standard')
    assert changed['backbone']['zero_init_residual'] is False
    assert 'zero_init_residual' not in zero['backbone']  # a copy
    with pytest.raises(ValueError, match='unknown initialisation'):
        with_init(zero, 'kaiming')


@pytest.fixture(scope='module')
def digits_root(tmp_path_factory):
    """40 train and 15 test digits per class, 32 px, as
    make_digits_dataset writes them."""
    import cv2
    from sklearn.datasets import load_digits

    from pirl_plugin.datasets.digits import upscale_digit
    root = tmp_path_factory.mktemp('digits')
    data = load_digits()
    for label in range(10):
        idx = np.flatnonzero(data.target == label)[:55]
        for j, i in enumerate(idx):
            d = root / ('train' if j < 40 else 'test') / str(label)
            d.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(d / f'{i}.png'), upscale_digit(data.images[i], 32))
    return str(root)


def test_untrained_row_is_the_standard_init_and_not_degenerate(
        digits_root, tmp_path):
    """The tool's untrained row (the reference) is the standard init; with
    the digits preset (trained from zero-init) the zero-init row is shown
    beside it. The standard-init network's features are not degenerate."""
    tool = _load_tool()
    preset = osp.join(REPO, 'configs', 'pirl',
                      'pirl_resnet18w16_1xb64-coslr-32e_digits.py')
    result = tool.main([
        '--data-root', digits_root, '--pirl-config', preset, '--methods',
        'untrained', '--work-dir',
        str(tmp_path / 'work')
    ])
    rows = result['methods']
    assert result['untrained'] == ['untrained', 'untrained_zero_init']
    std, zero = rows['untrained'], rows['untrained_zero_init']
    assert std['init'] == 'standard' and std['zero_init_residual'] is False
    assert zero['init'] == 'zero_init' and zero['zero_init_residual'] is True
    # standard init: distinct features, far above chance (10%)
    assert std['feat_pairwise_sim'] < 0.99
    assert std['knn_top1'] > 40 and std['linear_top1'] > 50
    # zero-init residual: nearly identical pooled features
    assert zero['feat_pairwise_sim'] > 0.999
    assert std['knn_top1'] > zero['knn_top1'] + 20
    table = open(tmp_path / 'work' / 'compare_result.md').read()
    assert 'untrained, standard init (zero_init_residual=False)' in table
    # a standard-init trained network gets the standard-init row only
    result = tool.main([
        '--data-root', digits_root, '--pirl-config', preset, '--methods',
        'random', '--inits', 'standard', '--work-dir',
        str(tmp_path / 'work2')
    ])
    assert result['untrained'] == ['untrained']
    assert result['methods']['untrained']['knn_top1'] == std['knn_top1']


@pytest.mark.parametrize('args,message', [
    (['--inits', 'kaiming'], "--inits: unknown ['kaiming']"),
    (['--budgets', '10,20', '--methods', 'untrained'
      ], '--budgets / several --inits need a trained method'),
    (['--methods', 'pirl,byol'], "--methods: unknown ['byol']"),
])
def test_bad_options_give_one_line_errors(tmp_path, args, message):
    tool = _load_tool()
    for split in ('train', 'test'):
        (tmp_path / split).mkdir()
    with pytest.raises(SystemExit, match=message.replace('[', r'\[')):
        tool.main(['--data-root', str(tmp_path)] + args)


def test_crossing_point_on_known_numbers():
    from pirl_plugin.evaluation.budget_curves import (crossing_point,
                                                      format_crossing)
    budgets = [600, 1200, 2400, 4800]
    # 82 at 1200, 86 at 2400: 83.3 is crossed 1.3 / 4 of the way
    point = crossing_point(budgets, [80, 82, 86, 90], 83.3)
    assert point['status'] == 'interpolated'
    assert point['iterations'] == pytest.approx(1200 + 1.3 / 4 * 1200)
    assert format_crossing(point) == '1,590'
    first = crossing_point(budgets, [85, 82, 86, 90], 83.3)
    assert first == dict(
        iterations=600.0, status='at or below the smallest budget')
    assert format_crossing(first) == '<= 600'
    # equal is not above; a dip after the crossing does not move it
    never = crossing_point(budgets, [80, 83.3, 83.3, 70], 83.3)
    assert never == dict(iterations=None, status='not reached')
    assert format_crossing(never) == 'not reached'
    later = crossing_point(budgets, [80, 90, 70, 95], 85)
    assert later['iterations'] == pytest.approx(600 + 5 / 10 * 600)
    with pytest.raises(ValueError, match='one value per budget'):
        crossing_point(budgets, [1, 2], 0)
    with pytest.raises(ValueError, match='increase'):
        crossing_point([600, 600], [1, 2], 0)


def test_crossing_points_per_method_init_and_probe():
    from pirl_plugin.evaluation.budget_curves import crossing_points
    runs = [
        dict(
            method='pirl',
            init='standard',
            iterations=it,
            knn_top1=k,
            linear_top1=lin)
        for it, k, lin in ((1200, 90, 95), (600, 80, 85))  # unsorted
    ] + [
        dict(
            method='mocov2',
            init='zero_init',
            iterations=600,
            knn_top1=50,
            linear_top1=50)
    ]
    untrained = dict(standard=dict(knn_top1=85, linear_top1=95))
    out = crossing_points(runs, untrained)
    assert out['pirl']['standard']['knn']['iterations'] == pytest.approx(900)
    assert out['pirl']['standard']['linear']['status'] == 'not reached'
    assert out['mocov2']['zero_init']['knn']['status'] == 'not reached'


def test_budget_table_lists_runs_without_an_untrained_probe():
    """A sweep of trained methods only (``--methods pirl``) still gets a
    table row per method and init, with no crossing point."""
    from pirl_plugin.evaluation.comparison_report import budget_markdown
    runs = [
        dict(
            method='pirl',
            init='standard',
            iterations=it,
            knn_top1=k,
            linear_top1=k + 5) for it, k in ((608, 80.0), (1216, 87.4))
    ]
    table = budget_markdown(
        dict(
            budgets=[608, 1216],
            data_root='d',
            seed=0,
            runs=runs,
            untrained={},
            crossing={}))
    row = [ln for ln in table.splitlines() if ln.startswith('| pirl')]
    assert len(row) == 1
    assert '80.0 / 85.0 | 87.4 / 92.4 | - | - |' in row[0]


def test_focus_marks_an_untrained_line_off_the_axis():
    """The y range follows the trained runs; a far-off zero-init line
    keeps its value in the legend and says it is off the axis."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from pirl_plugin.evaluation.comparison_report import (_focus,
                                                          untrained_lines)
    fig, ax = plt.subplots()
    ax.plot([608, 1216], [80.0, 90.0], label='pirl, standard')
    untrained_lines(
        ax, dict(standard=dict(knn_top1=83.3), zero_init=dict(knn_top1=11.5)),
        'knn_top1')
    _focus(ax, [80.0, 90.0, 83.3])
    labels = [line.get_label() for line in ax.lines]
    plt.close(fig)
    assert labels[0] == 'pirl, standard'
    assert labels[1].endswith(': 83.3')
    assert labels[2].endswith(': 11.5 (off the axis)')


@pytest.mark.slow
def test_budget_curves_end_to_end_on_tiny_data(tmp_path):
    """Two tiny budgets of PIRL (two jobs side by side; MoCo v2 goes
    through the same path in the one-budget test): one JSON with a row per
    run, both untrained lines, crossing points, the longest run's kNN
    curve, and one PNG."""
    from pirl_plugin.datasets.synthetic import make_shapes_dataset
    data = str(tmp_path / 'data')
    make_shapes_dataset(data, train_per_class=4, test_per_class=2, size=64)
    work = tmp_path / 'work'
    proc = subprocess.run([
        sys.executable, TOOL, '--data-root', data, '--work-dir',
        str(work), '--tiny', '--budgets', '5,10', '--inits', 'standard',
        '--methods', 'pirl,untrained', '--jobs', '2', '--knn-interval', '1'
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.load(open(work / 'budget_curves.json'))
    # 40 images, batch 8: 5 iterations per epoch; 5 -> 1 epoch, 10 -> 2
    assert result['budgets'] == [5, 10]
    runs = {(r['method'], r['iterations']): r for r in result['runs']}
    assert set(runs) == {('pirl', 5), ('pirl', 10)}
    for (method, its), run in runs.items():
        assert run['init'] == 'standard' and run['epochs'] == its // 5
        assert run['seconds_per_iter'] > 0
        assert run['run_config'].startswith(
            str(work / 'standard' / f'it{its}' / method))
        # each run has its own full schedule
        from mmengine.config import Config
        cfg = Config.fromfile(run['run_config'])
        assert cfg.param_scheduler[0]['T_max'] == its // 5
        assert cfg.model.backbone.zero_init_residual is False
        # the final kNN figure is the last point of the run's monitor
        assert run['knn_top1'] == pytest.approx(
            run['knn_curve'][-1]['knn_top1'], abs=1e-6)
    assert set(result['untrained']) == {'standard', 'zero_init'}
    assert result['untrained']['standard']['zero_init_residual'] is False
    for probe in ('knn', 'linear'):
        point = result['crossing']['pirl']['standard'][probe]
        assert point['status'] in ('interpolated', 'not reached',
                                   'at or below the smallest budget')
    longest = {c['method']: c['curve'] for c in result['longest_knn_curves']}
    assert set(longest) == {'pirl'}
    assert [p['epoch'] for p in longest['pirl']] == [1, 2]
    assert osp.getsize(work / 'budget_curves.png') > 10000
    table = open(work / 'budget_curves.md').read()
    assert '| pirl | standard init' in table and '5 it.' in table


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
    # the demo PIRL config starts from zero-init residual blocks: the
    # standard-init untrained row (the reference) and the zero-init one
    assert set(result['methods']) == {
        'pirl', 'mocov2', 'untrained', 'untrained_zero_init'
    }
    assert result['budget'] == dict(
        batch_size=8, epochs=1, iters_per_epoch=7, iterations=7)
    for name, res in result['methods'].items():
        assert 0 <= res['knn_top1'] <= 100 and 0 <= res['linear_top1'] <= 100
    assert result['methods']['untrained']['zero_init_residual'] is False
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
    assert '| untrained, standard init (zero_init_residual=False) |' in table
    assert '| untrained, zero-init residual' in table
    # the MoCo run used the PIRL run's backbone and schedule
    from mmengine.config import Config
    cp = Config.fromfile(osp.join(work, 'pirl', 'run_config.py'))
    cm = Config.fromfile(osp.join(work, 'mocov2', 'run_config.py'))
    assert cm.model.backbone == cp.model.backbone
    assert cm.optim_wrapper == cp.optim_wrapper
    assert cm.train_dataloader.batch_size == cp.train_dataloader.batch_size


def test_fit_schedule_keeps_warmups_and_stretches_the_decay():
    """A budget run's schedule: the decay that ends at the config's last
    epoch is stretched to the new length (``T_max`` = its new span), an
    epoch-based warm-up and an iteration-based one keep their length."""
    from mmengine.config import Config

    from pirl_plugin.utils.comparison_configs import fit_schedule
    cfg = Config(
        dict(
            train_cfg=dict(max_epochs=20),
            param_scheduler=[
                dict(type='LinearLR', by_epoch=False, begin=0, end=100),
                dict(type='LinearLR', begin=0, end=2),
                dict(type='CosineAnnealingLR', T_max=18, begin=2, end=20),
            ]))
    fit_schedule(cfg, 64)
    assert cfg.train_cfg.max_epochs == 64
    iter_warmup, warmup, decay = cfg.param_scheduler
    assert iter_warmup['end'] == 100
    assert (warmup['begin'], warmup['end']) == (0, 2)
    assert (decay['begin'], decay['end'], decay['T_max']) == (2, 64, 62)


def test_reuse_ignores_what_the_runner_adds_to_the_config(tmp_path):
    """``--reuse``: a finished run is reused when its stamp holds the same
    settings, although MMEngine's Runner dumped its own copy (with
    ``launcher`` and ``work_dir``) over the config during training; any
    other difference trains again."""
    from pirl_plugin.utils.comparison_runs import _reusable
    work = tmp_path / 'run'
    work.mkdir()
    (work / 'epoch_4.pth').write_bytes(b'x')
    (work / 'last_checkpoint').write_text(str(work / 'epoch_4.pth'))
    (work / 'train_seconds.txt').write_text('12.5')
    fresh = "model = dict(type='PIRL')\noptim_wrapper = dict(lr=0.06)\n"
    (work / 'trained_config.py'
     ).write_text(fresh + f"launcher = 'none'\nwork_dir = '{work}'\n")
    config = tmp_path / 'run_config.py'
    config.write_text(fresh)
    assert _reusable(str(config), str(work)) == dict(
        checkpoint=str(work / 'epoch_4.pth'), train_seconds=12.5, reused=True)
    config.write_text(fresh.replace('0.06', '0.03'))
    assert _reusable(str(config), str(work)) is None
