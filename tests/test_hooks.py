"""The memory-bank hooks one job each, the deprecated MemoryBankHook that
combines them, and the deprecated pirl_plugin.benchmarks module."""
import importlib
import logging
import os
import os.path as osp
import re
import sys
import types

import pytest
import torch
from conftest import REPO

from pirl_plugin.engine.hooks import (BankConsistencyHook, BankUpdateHook,
                                      CollapseGuardHook, MemoryBankHook,
                                      PreflightChecksHook, RNGStateHook,
                                      TrainingConfigError)
from pirl_plugin.models.memories import MemoryBank


class _Hub:

    def __init__(self):
        self.scalars = {}

    def update_scalar(self, key, value):
        self.scalars[key] = value


class _Runner:
    """What the hooks read of MMEngine's runner: a model with a bank, a
    training data loader, the message hub, the config."""

    def __init__(self, bank=None, num_images=10, resume=False, iteration=0):
        self.model = torch.nn.Module()
        if bank is not None:
            self.model.memory_bank = bank
        self.model.head = types.SimpleNamespace(num_negatives=4)
        self.train_dataloader = types.SimpleNamespace(
            dataset=list(range(num_images)), batch_size=2, drop_last=False)
        self.message_hub = _Hub()
        self.logger = logging.getLogger('test_hooks')
        self.cfg = dict(resume=resume)
        self.iter = iteration
        self.hooks = []
        self.seed = 3


def _batch(n):
    return dict(inputs=[torch.zeros(n, 3, 2, 2)], data_samples=[None] * n)


def test_bank_update_hook_sizes_seeds_and_commits():
    bank, runner = MemoryBank(feat_dim=4), None
    runner = _Runner(bank, num_images=10)
    hook = BankUpdateHook()
    hook.before_run(runner)
    assert bank.num_samples == 10 and bank.sampling_seed == 3
    before = bank.bank.clone()
    bank.stage_update(torch.tensor([1, 2]), torch.ones(2, 4))
    assert bank.has_pending_update
    hook.after_train_iter(runner, 0, _batch(2))
    assert not bank.has_pending_update
    assert not torch.equal(bank.bank[1:3], before[1:3])
    assert torch.equal(bank.bank[3:], before[3:])
    assert set(runner.message_hub.scalars) == {
        'train/bank_feat_sim', 'train/bank_update_sim'
    }


def test_collapse_guard_counts_refreshes_from_the_batches():
    """With a bank whose rows all point one way the guard warns once the
    rows written (batch size per step) reach warm-up + window."""
    bank = MemoryBank(10, 4)
    with torch.no_grad():
        bank.bank[:] = torch.nn.functional.normalize(torch.ones(4), dim=0)
    runner = _Runner(bank)
    warnings = []
    runner.logger = types.SimpleNamespace(warning=warnings.append)
    hook = CollapseGuardHook(
        stats_interval=1, collapse_window=1, collapse_warmup=1)
    for i in range(10):  # 5 rows a step: half a refresh
        runner.iter = i
        hook.after_train_iter(runner, i, _batch(5))
        if i < 3:  # refreshes 0.5, 1.0 (warm-up over), 1.5: window not full
            assert not warnings, i
    assert runner.message_hub.scalars['train/bank_pairwise_sim'] == (
        pytest.approx(1.0))
    assert len(warnings) == 1
    assert 'the memory bank is collapsing' in warnings[0]


def test_preflight_checks_refuse_what_the_bank_cannot_do():
    hook = PreflightChecksHook()
    hook.before_run(_Runner(MemoryBank(10, 4), num_images=10))
    with pytest.raises(TrainingConfigError, match='has 12 entries'):
        hook.before_run(_Runner(MemoryBank(12, 4), num_images=10))
    with pytest.raises(TrainingConfigError, match='num_negatives=4'):
        hook.before_run(_Runner(MemoryBank(4, 4), num_images=4))
    ckpt = dict(state_dict={'memory_bank.bank': torch.zeros(12, 4)})
    with pytest.raises(TrainingConfigError, match='dataset changed'):
        hook.after_load_checkpoint(_Runner(MemoryBank(feat_dim=4)), ckpt)
    no_bank = dict(state_dict={'backbone.w': torch.zeros(1)})
    hook.after_load_checkpoint(_Runner(MemoryBank(feat_dim=4)), no_bank)
    with pytest.raises(TrainingConfigError, match='has no memory bank'):
        hook.after_load_checkpoint(
            _Runner(MemoryBank(feat_dim=4), resume=True), no_bank)


def test_preflight_checks_pass_models_without_a_bank():
    """Jigsaw, rotation and MoCo runs resume checkpoints without a bank."""
    hook = PreflightChecksHook()
    runner = _Runner(None, num_images=4, resume=True)
    hook.before_run(runner)
    hook.after_load_checkpoint(runner, dict(state_dict={'w': torch.ones(1)}))


def test_bank_consistency_hook_checks_every_interval(monkeypatch):
    calls = []
    monkeypatch.setattr(BankConsistencyHook, 'check_consistency',
                        staticmethod(lambda bank, it: calls.append(it)))
    hook, runner = BankConsistencyHook(interval=3), _Runner(MemoryBank(4, 4))
    for i in range(7):
        runner.iter = i
        hook.after_train_iter(runner, i)
    assert calls == [3, 6]
    with pytest.raises(ValueError, match='interval must be >= 0'):
        BankConsistencyHook(interval=-1)


def test_no_hook_runs_another_hooks_checks():
    """The RNG state hook keeps the RNG states only; no module keeps a
    registry of runs."""
    for event in ('before_run', 'before_train', 'after_load_checkpoint'):
        assert getattr(RNGStateHook,
                       event) is not getattr(PreflightChecksHook, event)
    assert RNGStateHook.before_run is RNGStateHook.__mro__[1].before_run
    src = open(
        osp.join(REPO, 'pirl_plugin', 'engine', 'hooks', 'run_checks.py'))
    assert 'WeakKeyDictionary' not in src.read()


def test_deprecated_memory_bank_hook_warns_and_combines_the_hooks():
    with pytest.warns(FutureWarning, match='MemoryBankHook is deprecated'):
        hook = MemoryBankHook(
            check_interval=2,
            stats_interval=1,
            collapse_window=1,
            collapse_warmup=0)
    assert [type(h) for h in hook.parts
            ] == [BankUpdateHook, CollapseGuardHook, BankConsistencyHook]
    assert hook.parts[2].interval == 2
    assert hook.guard.collapse_window == 1
    # without a PreflightChecksHook in the runner it runs the checks too
    with pytest.raises(TrainingConfigError, match='has 12 entries'):
        hook.before_run(_Runner(MemoryBank(12, 4), num_images=10))
    with pytest.warns(FutureWarning):
        hook = MemoryBankHook()
    runner = _Runner(MemoryBank(feat_dim=4), num_images=10)
    runner.hooks = [PreflightChecksHook()]
    hook.before_run(runner)
    assert PreflightChecksHook not in [type(h) for h in hook.parts]
    # the old API: the guard and the consistency check
    warnings = []
    log = types.SimpleNamespace(warning=warnings.append)
    for r in range(14):
        hook.check_collapse(log, 0.9, refreshes=float(r))
    assert len(warnings) == 1
    assert hook.check_consistency is BankConsistencyHook.check_consistency
    with pytest.warns(FutureWarning), pytest.raises(
            ValueError, match='collapse_window'):
        MemoryBankHook(collapse_window=0)


def test_benchmarks_module_warns_and_no_tool_imports_it():
    sys.modules.pop('pirl_plugin.benchmarks', None)
    with pytest.warns(
            FutureWarning, match='pirl_plugin.benchmarks is '
            'deprecated'):
        bench = importlib.import_module('pirl_plugin.benchmarks')
    from pirl_plugin.engine.hooks import KNNMonitorHook
    assert bench.KNNMonitorHook is KNNMonitorHook
    with pytest.raises(AttributeError):
        bench.no_such_name
    pattern = re.compile(r'(import|from)\s+pirl_plugin\.benchmarks\b|'
                         r"'pirl_plugin\.benchmarks'")
    users = []
    for top in ('tools', 'pirl_plugin', 'configs'):
        for root, _, files in os.walk(osp.join(REPO, top)):
            for name in files:
                path = osp.join(root, name)
                if name.endswith('.py') and 'benchmarks/__init__' not in path:
                    if pattern.search(open(path).read()):
                        users.append(path)
    assert not users
