"""The bank's collapse statistic and CollapseGuardHook."""
import glob
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from conftest import REPO, run_tool

from pirl_plugin.engine.hooks import CollapseGuardHook
from pirl_plugin.models.memories import MemoryBank


def _brute_force_pairwise(rows: torch.Tensor) -> float:
    """Mean cosine similarity over the pairs i != j, from the definition."""
    m = rows.size(0)
    total, count = 0.0, 0
    for i in range(m):
        for j in range(m):
            if i != j:
                total += float(F.cosine_similarity(rows[i], rows[j], dim=0))
                count += 1
    return total / count


def test_pairwise_similarity_matches_its_definition():
    bank = MemoryBank(12, 5)
    assert bank.pairwise_similarity() == pytest.approx(
        _brute_force_pairwise(bank.bank.double()), abs=1e-6)
    # half the rows share one direction
    with torch.no_grad():
        bank.bank[:6] = F.normalize(torch.ones(5), dim=0)
    assert bank.pairwise_similarity() == pytest.approx(
        _brute_force_pairwise(bank.bank.double()), abs=1e-6)
    with torch.no_grad():
        bank.bank[:] = F.normalize(torch.ones(5), dim=0)
    assert bank.pairwise_similarity() == pytest.approx(1.0, abs=1e-6)
    # random unit vectors: about 0
    assert abs(MemoryBank(4000, 128).pairwise_similarity()) < 0.01


class _Logger:

    def __init__(self):
        self.warnings = []

    def warning(self, msg):
        self.warnings.append(msg)


def _advice_behind(warning: str) -> str:
    """The text of the doc section that ``warning`` points to
    (``See <file>#<anchor>``)."""
    path, anchor = warning.rsplit('See ', 1)[1].split('#')
    text = open(osp.join(REPO, path)).read()
    sections = text.split('\n## ')
    found = [
        sec for sec in sections
        if sec.splitlines()[0].lower().replace(' ', '-') == anchor
    ]
    assert len(found) == 1, f'no section #{anchor} in {path}'
    return found[0]


def test_guard_needs_warmup_and_a_full_window_and_warns_once():
    hook = CollapseGuardHook(
        collapse_threshold=0.7,
        collapse_window=4,
        collapse_min_drop=0.1,
        collapse_warmup=2)
    log = _Logger()
    # before the bank was rewritten twice: never
    for _ in range(5):
        assert not hook.check_collapse(log, 0.99, refreshes=1.5)
    # high and flat, but not yet for 4 refreshes: silent
    assert not hook.check_collapse(log, 0.95, refreshes=2.0)
    assert not hook.check_collapse(log, 0.96, refreshes=4.0)
    assert not hook.check_collapse(log, 0.96, refreshes=5.9)
    # 4 refreshes above 0.7 and not falling: warns, once
    assert hook.check_collapse(log, 0.97, refreshes=6.0)
    assert not hook.check_collapse(log, 0.98, refreshes=7.0)
    assert len(log.warnings) == 1
    assert 'collapsing' in log.warnings[0]
    assert 'for 4.0 bank refreshes' in log.warnings[0]
    assert '0.950, 0.960, 0.960, 0.970' in log.warnings[0]
    # the advice is in the doc section the warning points to
    assert _advice_behind(
        log.warnings[0]).count('model.head.temperature=0.2') == 1
    # a reading below the threshold resets: a new episode warns again
    assert not hook.check_collapse(log, 0.2, refreshes=7.5)
    for r in (8, 10):
        assert not hook.check_collapse(log, 0.9, refreshes=r)
    assert hook.check_collapse(log, 0.9, refreshes=12)
    assert len(log.warnings) == 2


def test_guard_is_silent_while_the_similarity_falls():
    """High for longer than the window but falling by at least min_drop
    within it: the start of a healthy run."""
    hook, log = CollapseGuardHook(
        collapse_window=4, collapse_min_drop=0.1,
        collapse_warmup=0), _Logger()
    # 0.12 per 4 refreshes
    for r, sim in enumerate((0.95, 0.89, 0.83, 0.77, 0.71)):
        assert not hook.check_collapse(log, sim, refreshes=2.0 * r)
    # a slower fall (0.08 per 4 refreshes): warns once the 4 refreshes
    # above the threshold are complete
    hook, log = CollapseGuardHook(
        collapse_window=4, collapse_min_drop=0.1,
        collapse_warmup=0), _Logger()
    warned = [
        hook.check_collapse(log, 0.95 - 0.02 * r, refreshes=1.0 * r)
        for r in range(8)
    ]
    assert warned == [False] * 4 + [True] + [False] * 3
    # fell from a peak, then a plateau: warns once the peak has left the
    # window (b2 of the grid plateaued at 0.85-0.87)
    hook, log = CollapseGuardHook(
        collapse_window=4, collapse_min_drop=0.1,
        collapse_warmup=0), _Logger()
    warned = [
        hook.check_collapse(log, sim, refreshes=2.0 * r)
        for r, sim in enumerate((0.99, 0.85, 0.85, 0.85, 0.85))
    ]
    assert warned == [False, False, False, True, False]


# bank_pairwise_sim every 50 iterations (2.55 bank refreshes: 64 of the
# 1,257 digits per iteration) in runs of the one-factor grid of
# docs/small_data.md (work_dirs/digits_grid, 600 iterations each), and the
# final kNN / linear top-1 of their frozen backbones.
_GRID_CURVES = {
    # healthy: rise while the bank is refilled, then fall
    'a2s1 NCE tau 0.2 (81.5 / 89.3)':
    (0.34, 0.83, 0.90, 0.86, 0.79, 0.69, 0.58, 0.51, 0.45, 0.40, 0.38),
    'a3 InfoNCE tau 0.2 (82.4 / 90.9)':
    (0.25, 0.74, 0.81, 0.78, 0.71, 0.63, 0.54, 0.47, 0.40, 0.35, 0.32),
    'b3 NPID-only (lambda 0) (85.0 / 92.6)':
    (0.38, 0.76, 0.81, 0.74, 0.63, 0.53, 0.44, 0.37, 0.31, 0.26, 0.24),
    # concentrated: above 0.7 to the end (final 0.74-0.96)
    'a0 NCE tau 0.07 (79.8 / 90.9)': (0.60, 0.95, 0.97, 0.95, 0.92, 0.89, 0.85,
                                      0.83, 0.80, 0.78, 0.78),
    'a4 lr 0.0075 (65.2 / 83.1)': (0.46, 0.91, 0.96, 0.97, 0.97, 0.97, 0.97,
                                   0.96, 0.96, 0.96, 0.96),
    'b2 tau 0.2, lr 0.0075 (74.6 / 86.5)': (0.21, 0.50, 0.72, 0.83, 0.86, 0.87,
                                            0.87, 0.86, 0.86, 0.85, 0.85),
    'a5 bank momentum 0.9 at tau 0.07 (81.7 / 91.1)':
    (0.03, 0.14, 0.30, 0.46, 0.59, 0.68, 0.73, 0.75, 0.76, 0.76, 0.75),
}


@pytest.mark.parametrize('name', sorted(_GRID_CURVES))
def test_guard_with_its_defaults_on_recorded_curves(name):
    """With its defaults the guard warns on every recorded curve that ended
    concentrated and on none of the healthy ones, although the healthy ones
    peak at 0.81-0.90 (above the threshold) on their way down."""
    hook, log = CollapseGuardHook(), _Logger()
    for i, sim in enumerate(_GRID_CURVES[name]):
        hook.check_collapse(log, sim, refreshes=2.55 * (i + 1))
    concentrated = name.split()[0] in ('a0', 'a4', 'b2', 'a5')
    assert len(log.warnings) == int(concentrated), name


@pytest.mark.parametrize('kwargs,msg', [
    (dict(stats_interval=-1), 'stats_interval must be >= 0'),
    (dict(collapse_threshold=1.5), r'collapse_threshold must be in \[-1, 1\]'),
    (dict(collapse_window=0),
     r'collapse_window \(bank refreshes\) must be > 0'),
    (dict(collapse_min_drop=-0.1), 'collapse_min_drop must be >= 0'),
])
def test_bad_guard_settings_refused(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        CollapseGuardHook(**kwargs)


@pytest.mark.slow
def test_guard_warns_in_a_run_made_to_collapse(shapes_root, tmp_path):
    """tools/train.py with head f initialised to a constant matrix and the
    learning rate at 0: f(v_I) points the same way for every image, so the
    bank collapses as soon as it is rewritten; the log must say so, and the
    logged statistic must be that of the checkpointed bank. (That a healthy
    bank does not warn is tested above: a short CPU run is not healthy yet,
    its features are still alike.)"""
    cfg = osp.join(REPO, 'configs', 'pirl',
                   'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')
    work = str(tmp_path / 'collapsed')
    run_tool([
        'tools/train.py', cfg, '--work-dir', work, '--cfg-options',
        f'train_dataloader.dataset.data_root={shapes_root}/train',
        'train_dataloader.batch_size=12', 'train_dataloader.num_workers=0',
        'model.head.num_negatives=16', 'train_cfg.max_epochs=3',
        'param_scheduler.0.T_max=3', 'param_scheduler.0.end=3',
        'default_hooks.checkpoint.interval=3',
        'default_hooks.logger.interval=5', 'custom_hooks.1.stats_interval=5',
        'custom_hooks.1.collapse_window=1', 'custom_hooks.1.collapse_warmup=1',
        'optim_wrapper.optimizer.lr=0.0', 'model.neck.init_cfg.type=Constant',
        'model.neck.init_cfg.val=0.01', 'model.neck.init_cfg.layer=Linear'
    ])
    log = open(glob.glob(osp.join(work, '*', '*.log'))[0]).read()
    assert 'the memory bank is collapsing' in log
    ckpt = torch.load(osp.join(work, 'epoch_3.pth'), map_location='cpu')
    bank = MemoryBank(60, 128)
    bank.load_state_dict({
        k[len('memory_bank.'):]: v
        for k, v in ckpt['state_dict'].items() if k.startswith('memory_bank.')
    })
    # three rewrites with momentum 0.5 leave 1/8 of the random start
    sim = bank.pairwise_similarity()
    assert sim > 0.9
    # the last logged reading (iteration 15 of 15) is the final bank's
    last = [line for line in log.splitlines() if 'bank_pairwise_sim' in line]
    logged = float(last[-1].split('bank_pairwise_sim: ')[1].split()[0])
    assert logged == pytest.approx(sim, abs=2e-3)


def test_replay_tool_reads_the_readings_and_calls_the_guard(tmp_path):
    """tools/analysis/collapse_guard_replay.py: each reading counted once,
    stamped at the iteration it was taken, and the guard's verdict."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'collapse_guard_replay',
        osp.join(REPO, 'tools', 'analysis', 'collapse_guard_replay.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    # 10 iterations an epoch, a reading every 5, logged every 3 iterations
    lines, sims = [], {}
    for it in range(3, 151, 3):
        taken = it // 5 * 5
        if taken == 0:
            continue
        sim = sims.setdefault(taken,
                              0.95 if taken >= 20 else 0.1 + taken / 100)
        epoch, i = (it - 1) // 10 + 1, (it - 1) % 10 + 1
        lines.append(f'12/03 - mmengine - INFO - Epoch(train)  [{epoch}]'
                     f'[{i:>2}/10]  lr: 0.1  bank_pairwise_sim: {sim:.4f}')
    readings = tool.read_readings('\n'.join(lines), stats_interval=5)
    # a new value at 5, 10, 15, 20; then 0.95 unchanged: one reading
    assert readings == [(0.5, 0.15), (1.0, 0.2), (1.5, 0.25), (2.0, 0.95)]
    log = tmp_path / 'run' / '20261203_000000' / 'x.log'
    log.parent.mkdir(parents=True)
    # the guard needs readings over its window: a flat 0.95 from 2 to 15
    flat = '\n'.join(
        f'Epoch(train)  [{e}][10/10]  bank_pairwise_sim: {0.95 + e / 1e4:.4f}'
        for e in range(2, 16))
    log.write_text(flat)
    out = run_tool([
        'tools/analysis/collapse_guard_replay.py',
        str(tmp_path / 'run'), '--stats-interval', '10'
    ]).stdout
    assert 'WARNS at 12.0 refreshes' in out
    out = run_tool([
        'tools/analysis/collapse_guard_replay.py',
        str(tmp_path / 'run'), '--stats-interval', '10', '--window', '20'
    ]).stdout
    assert 'silent' in out


def test_replay_tool_bad_inputs_name_the_run_and_what_to_do(tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    itlog = tmp_path / 'iter.log'
    itlog.write_text('Iter(train) [ 50/600]  bank_pairwise_sim: 0.5000\n')
    proc = run_tool(
        ['tools/analysis/collapse_guard_replay.py',
         str(empty),
         str(itlog)],
        check=False)
    assert proc.returncode == 1
    assert f'{empty}: no MMEngine *.log below it' in proc.stderr
    assert (f'{itlog}: an iteration-based log: pass --iters-per-refresh'
            in proc.stderr)
    # with it, the log is read
    out = run_tool([
        'tools/analysis/collapse_guard_replay.py',
        str(itlog), '--iters-per-refresh', '25'
    ]).stdout
    assert 'silent; readings: 0.50' in out
