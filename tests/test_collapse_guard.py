"""The bank's collapse statistic and MemoryBankHook's collapse guard."""
import glob
import os.path as osp

import pytest
import torch
import torch.nn.functional as F

from conftest import REPO, run_tool
from pirl_plugin.engine.hooks import MemoryBankHook
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


def test_guard_needs_warmup_and_patience_and_warns_once():
    hook = MemoryBankHook(collapse_threshold=0.7, collapse_patience=3,
                          collapse_warmup=2)
    log = _Logger()
    # before the bank was rewritten twice: never
    for _ in range(5):
        assert not hook.check_collapse(log, 0.99, refreshes=1.5)
    # after: the third reading in a row above the threshold warns, once
    assert not hook.check_collapse(log, 0.95, refreshes=2.0)
    assert not hook.check_collapse(log, 0.96, refreshes=2.1)
    assert hook.check_collapse(log, 0.97, refreshes=2.2)
    assert not hook.check_collapse(log, 0.98, refreshes=2.3)
    assert len(log.warnings) == 1
    assert 'collapsing' in log.warnings[0]
    assert '0.950, 0.960, 0.970' in log.warnings[0]
    assert 'loss_type=infonce' in log.warnings[0]
    # a reading below resets: a new episode warns again
    assert not hook.check_collapse(log, 0.2, refreshes=2.4)
    for sim in (0.9, 0.9):
        assert not hook.check_collapse(log, sim, refreshes=3)
    assert hook.check_collapse(log, 0.9, refreshes=3)
    # readings that dip below the threshold never warn
    hook2, log2 = MemoryBankHook(collapse_patience=2), _Logger()
    for sim in (0.8, 0.5, 0.8, 0.6, 0.9, 0.1):
        hook2.check_collapse(log2, sim, refreshes=5)
    assert not log2.warnings


@pytest.mark.parametrize('kwargs,msg', [
    (dict(stats_interval=-1), 'stats_interval must be >= 0'),
    (dict(collapse_threshold=1.5), r'collapse_threshold must be in \[-1, 1\]'),
    (dict(collapse_patience=0), 'collapse_patience must be >= 1'),
])
def test_bad_guard_settings_refused(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        MemoryBankHook(**kwargs)


@pytest.mark.slow
def test_guard_warns_in_a_run_made_to_collapse(shapes_root, tmp_path):
    """tools/train.py with head f initialised to a constant matrix and the
    learning rate at 0: f(v_I) points the same way for every image, so the
    bank collapses as soon as it is rewritten; the log must say so, and the
    logged statistic must be that of the checkpointed bank. (That a healthy
    bank does not warn is tested above: a short CPU run is not healthy yet,
    its features are still alike.)"""
    cfg = osp.join(REPO, 'configs', 'pirl_r18_1xb64-20e_shapes-demo.py')
    work = str(tmp_path / 'collapsed')
    run_tool(['tools/train.py', cfg, '--work-dir', work, '--cfg-options',
              f'train_dataloader.dataset.data_root={shapes_root}/train',
              'train_dataloader.batch_size=12',
              'train_dataloader.num_workers=0',
              'model.head.num_negatives=16', 'train_cfg.max_epochs=3',
              'param_scheduler.0.T_max=3', 'param_scheduler.0.end=3',
              'default_hooks.checkpoint.interval=3',
              'default_hooks.logger.interval=5',
              'custom_hooks.0.stats_interval=5',
              'custom_hooks.0.collapse_patience=2',
              'custom_hooks.0.collapse_warmup=1',
              'optim_wrapper.optimizer.lr=0.0',
              'model.neck.init_cfg.type=Constant',
              'model.neck.init_cfg.val=0.01',
              'model.neck.init_cfg.layer=Linear'])
    log = open(glob.glob(osp.join(work, '*', '*.log'))[0]).read()
    assert 'the memory bank is collapsing' in log
    ckpt = torch.load(osp.join(work, 'epoch_3.pth'), map_location='cpu')
    bank = MemoryBank(60, 128)
    bank.load_state_dict({k[len('memory_bank.'):]: v for k, v in
                          ckpt['state_dict'].items()
                          if k.startswith('memory_bank.')})
    # three rewrites with momentum 0.5 leave 1/8 of the random start
    sim = bank.pairwise_similarity()
    assert sim > 0.9
    # the last logged reading (iteration 15 of 15) is the final bank's
    last = [line for line in log.splitlines() if 'bank_pairwise_sim' in line]
    logged = float(last[-1].split('bank_pairwise_sim: ')[1].split()[0])
    assert logged == pytest.approx(sim, abs=2e-3)
