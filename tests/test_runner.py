"""The plugin's runner (pirl_plugin.engine.PIRLRunner) as a component:
selected by every training config and found by MMPretrain's own
tools/train.py, the continue command of a stopped run, the stop signals,
the pre-flight checks and atomic checkpoints. End to end through MMPretrain's
tools/train.py: tests/test_robustness_e2e.py."""
import glob
import os
import os.path as osp
import signal
import time

import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import pirl_plugin  # noqa: F401
from pirl_plugin.datasets import DatasetConfigError
from pirl_plugin.engine import (PIRLRunner, TrainingInterrupted,
                                check_training_cfg, continue_command,
                                stop_on_signals)
from pirl_plugin.utils.checkpoints import CheckpointError


def training_configs():
    """Every config that trains (not the _base_ pieces, not MMDetection's)."""
    found = []
    for path in sorted(
            glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                      recursive=True)):
        rel = osp.relpath(path, REPO)
        if ('_base_' in rel.split(os.sep) or 'mmdetection' in rel
                or rel == osp.join('configs', 'benchmarks', 'eval_suite.py')):
            continue  # the suite file lists evaluation tasks
        found.append(rel)
    assert found
    return found


def test_every_training_config_selects_the_plugin_runner():
    """MMPretrain's tools/train.py calls RUNNERS.build(cfg) with MMEngine's
    root registry and no default scope: the config's runner_type must
    resolve to PIRLRunner there."""
    for rel in training_configs():
        cfg = Config.fromfile(osp.join(REPO, rel))
        assert 'runner_type' in cfg, rel
        assert MMENGINE_RUNNERS.get(cfg.runner_type) is PIRLRunner, rel


# --------------------------------------------------------------------------
# the continue command of a stopped run
# --------------------------------------------------------------------------
def test_continue_command_from_the_command_line():
    cmd = continue_command('/w', [
        'tools/train.py', 'cfg.py', '--resume', 'old/epoch_3.pth',
        '--cfg-options', 'a.b=1', 'c="[x, y]"'
    ])
    assert cmd == ("python tools/train.py cfg.py --cfg-options a.b=1 "
                   "'c=\"[x, y]\"' --work-dir /w --resume")
    # --work-dir kept as given (relative to where the user runs it); an
    # auto --resume and the launcher's --local-rank dropped
    cmd = continue_command('/abs/w', [
        'train.py', 'cfg.py', '--work-dir', 'w', '--resume', '--amp',
        '--local-rank=1', '--launcher', 'pytorch'
    ])
    assert cmd.startswith('python train.py cfg.py --work-dir w --amp '
                          '--launcher pytorch --resume (started through the '
                          'same distributed launcher')
    cmd = continue_command(
        '/w', ['t.py', 'cfg.py', '--resume=x.pth', '--local_rank', '0'])
    assert cmd == 'python t.py cfg.py --work-dir /w --resume'
    # MMPretrain's script given by its absolute path, as `mim train` does
    script = osp.join(os.getcwd(), 'site', 'mmpretrain', '.mim', 'tools',
                      'train.py')
    cmd = continue_command('/w', [script, 'cfg.py'])
    assert cmd == (
        'python ' +
        osp.join('site', 'mmpretrain', '.mim', 'tools', 'train.py') +
        ' cfg.py --work-dir /w --resume')
    # not started from a script (python -c, an interactive session)
    assert continue_command('/w', ['-c']) == \
        'the same command with --work-dir /w --resume'


# --------------------------------------------------------------------------
# stop signals
# --------------------------------------------------------------------------
@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_raises_training_interrupted_once(sig):
    before = signal.getsignal(sig)
    with pytest.raises(TrainingInterrupted, match=signal.Signals(sig).name):
        with stop_on_signals():
            try:
                os.kill(os.getpid(), sig)
                time.sleep(10)  # interrupted by the handler
            except TrainingInterrupted:
                # a second signal would kill at once
                assert signal.getsignal(sig) == signal.SIG_DFL
                raise
    assert signal.getsignal(sig) is before  # restored on the way out


# --------------------------------------------------------------------------
# pre-flight checks
# --------------------------------------------------------------------------
def test_preflight_checks(tmp_path):
    cfg = dict(
        model=dict(memory_bank=dict()),
        train_dataloader=dict(
            dataset=dict(
                type='CustomDataset', data_root=str(tmp_path / 'none'))))
    with pytest.raises(DatasetConfigError, match='is not a folder'):
        check_training_cfg(cfg, False, None, str(tmp_path))
    images = tmp_path / 'images'
    images.mkdir()
    (images / 'a.jpg').write_bytes(b'')
    cfg['train_dataloader']['dataset']['data_root'] = str(images)
    cfg['train_dataloader']['dataset']['with_label'] = False
    check_training_cfg(cfg, False, None, str(tmp_path))
    missing = str(tmp_path / 'epoch_3.pth')
    with pytest.raises(
            CheckpointError, match=f'checkpoint file {missing!r} not found'):
        check_training_cfg(cfg, True, missing, str(tmp_path))
    # auto resume: the work directory's latest checkpoint is checked
    work = tmp_path / 'work'
    work.mkdir()
    torch.save(
        dict(
            meta=dict(epoch=1, iter=2),
            state_dict={'backbone.w': torch.zeros(1)}),
        str(work / 'epoch_1.pth'))
    (work / 'last_checkpoint').write_text(str(work / 'epoch_1.pth'))
    with pytest.raises(CheckpointError, match='is not a PIRL checkpoint'):
        check_training_cfg(cfg, True, None, str(work))
    check_training_cfg(cfg, True, None, str(tmp_path))  # nothing to resume


# --------------------------------------------------------------------------
# atomic checkpoints
# --------------------------------------------------------------------------
class _Tiny(nn.Module):

    def __init__(self):
        super().__init__()
        self.w = nn.Linear(2, 1)

    def train_step(self, data, optim_wrapper):  # pragma: no cover
        raise NotImplementedError


def _runner(work_dir):
    return PIRLRunner(
        model=_Tiny(),
        work_dir=work_dir,
        train_dataloader=DataLoader(TensorDataset(torch.zeros(4, 2))),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)))


def test_runner_writes_checkpoints_atomically(tmp_path, monkeypatch):
    """A checkpoint write of PIRLRunner that is interrupted (here at the
    rename; a signal, a full disk) leaves the previous file and no partial
    one: the runner writes through the 'atomic_local' file backend."""
    work = str(tmp_path / 'work')
    runner = _runner(work)
    path = osp.join(work, 'epoch_1.pth')
    kw = dict(save_optimizer=False, save_param_scheduler=False)
    runner.save_checkpoint(work, 'epoch_1.pth', **kw)
    before = open(path, 'rb').read()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # like a signal arriving mid-write

    with torch.no_grad():
        runner.model.w.weight.fill_(7.0)
    monkeypatch.setattr(os, 'replace', killed)
    with pytest.raises(KeyboardInterrupt):
        runner.save_checkpoint(work, 'epoch_1.pth', **kw)
    monkeypatch.undo()
    assert open(path, 'rb').read() == before
    assert [f for f in os.listdir(work) if 'pth' in f] == ['epoch_1.pth']
    runner.save_checkpoint(work, 'epoch_1.pth', **kw)
    saved = torch.load(path)['state_dict']['w.weight']  # weights_only
    assert torch.equal(saved, torch.full((1, 2), 7.0))
    # a backend the caller chose is used as it is
    calls = []
    from mmengine.fileio import LocalBackend
    monkeypatch.setattr(LocalBackend, 'put',
                        lambda self, obj, filepath: calls.append(filepath))
    runner.save_checkpoint(
        work, 'epoch_2.pth', backend_args=dict(backend='local'), **kw)
    assert calls == [osp.join(work, 'epoch_2.pth')]


def test_atomic_backend_through_mmengine_save_checkpoint(
        tmp_path, monkeypatch):
    """The 'atomic_local' backend is an ordinary MMEngine file backend:
    mmengine's own save_checkpoint writes through it when selected."""
    from mmengine.runner.checkpoint import save_checkpoint
    path = str(tmp_path / 'sub' / 'epoch_1.pth')
    args = dict(backend_args=dict(backend='atomic_local'))
    save_checkpoint(dict(state_dict={'w': torch.ones(3)}), path, **args)
    before = open(path, 'rb').read()
    monkeypatch.setattr(os, 'replace', lambda *a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        save_checkpoint(dict(state_dict={'w': torch.zeros(3)}), path, **args)
    monkeypatch.undo()
    assert open(path, 'rb').read() == before
    assert os.listdir(str(tmp_path / 'sub')) == ['epoch_1.pth']


class _Trainable(nn.Module):
    """One linear layer trained on zeros by SGD (MMEngine's train_step
    contract)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Linear(2, 1)

    def train_step(self, data, optim_wrapper):
        loss = self.w(data[0]).pow(2).mean() + self.w.bias.pow(2).sum()
        optim_wrapper.update_params(loss)
        return dict(loss=loss)


@pytest.mark.parametrize('ckpt_cfg', [
    dict(interval=2, by_epoch=False, out_dir='OUT', max_keep_ckpts=1),
    dict(
        interval=1,
        by_epoch=False,
        filename_tmpl='ckpt_{}.pth',
        save_last=False),
])
def test_atomic_writes_hold_any_checkpoint_hook_config(tmp_path, monkeypatch,
                                                       ckpt_cfg):
    """Whatever CheckpointHook a config sets (interval, out_dir, file
    names, max_keep_ckpts), the checkpoints it writes go through the
    'atomic_local' backend."""
    from mmengine.fileio import LocalBackend

    from pirl_plugin.utils.atomic_file_backend import AtomicLocalBackend
    written = []
    put = AtomicLocalBackend.put

    def record(self, obj, filepath):
        written.append(osp.basename(str(filepath)))
        return put(self, obj, filepath)

    monkeypatch.setattr(AtomicLocalBackend, 'put', record)
    monkeypatch.setattr(
        LocalBackend, 'put',
        lambda *a: pytest.fail('a checkpoint was written non-atomically'))
    ckpt_cfg = dict(ckpt_cfg, type='CheckpointHook')
    if ckpt_cfg.get('out_dir') == 'OUT':
        ckpt_cfg['out_dir'] = str(tmp_path / 'elsewhere')
    runner = PIRLRunner(
        model=_Trainable(),
        work_dir=str(tmp_path / 'work'),
        train_dataloader=dict(
            dataset=TensorDataset(torch.zeros(8, 2)),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=False, max_iters=4),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=ckpt_cfg, logger=None))
    runner.train()
    expected = (['iter_2.pth', 'iter_4.pth'] if ckpt_cfg['interval'] == 2 else
                [f'ckpt_{i}.pth' for i in range(1, 5)])
    assert written == expected
    if 'out_dir' in ckpt_cfg:
        folder = osp.join(ckpt_cfg['out_dir'], 'work')
        assert sorted(f for f in os.listdir(folder)
                      if f.endswith('.pth')) == ['iter_4.pth']
