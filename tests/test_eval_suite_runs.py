"""tools/eval_suite.py, whole runs. Stub tasks
(tests/helpers/eval_suite_stub.py, which writes known figures) check the
figures picked, the report, resumption, skipping, failures and Ctrl-C; one
slow test runs every real task on tiny stand-ins of the datasets
(tests/helpers/eval_suite_data.py)."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from test_detection import SMALL_DET_CFG, build_pirl, save_like_mmengine

import pirl_plugin  # noqa: F401
from pirl_plugin.evaluation.suite import load_suite, run_suite

sys.path.insert(0, osp.join(REPO, 'tests', 'helpers'))
import eval_suite_data as standins  # noqa: E402

SUITE, TASKS, TOOL = standins.SUITE, standins.TASKS, standins.TOOL
make_all, save_backbone_ckpt = standins.make_all, standins.save_backbone_ckpt
STUB = osp.join(REPO, 'tests', 'helpers', 'eval_suite_stub.py')


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    return make_all(str(tmp_path_factory.mktemp('standins')))


@pytest.fixture(scope='module')
def r18_ckpt(tmp_path_factory):
    return save_backbone_ckpt(
        tmp_path_factory.mktemp('ckpt') / 'epoch_1.pth', depth=18)


def stub_suite(tmp_path):
    path = str(tmp_path / 'stub_suite.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{SUITE!r}]\n')
        f.write('tasks = dict(\n')
        for name in TASKS:
            f.write(f'    {name}=dict(tool={STUB!r}),\n')
        f.write(')\n')
    return path


def stub_env(monkeypatch, tmp_path, plan=None):
    calls = str(tmp_path / 'calls.txt')
    monkeypatch.setenv('STUB_CALLS', calls)
    monkeypatch.setenv('STUB_PLAN', json.dumps(plan or {}))
    return calls


def called(calls):
    if not osp.isfile(calls):
        return []
    return [line.split()[0] for line in open(calls).read().splitlines()]


def report(work):
    return json.load(open(osp.join(work, 'eval_suite.json')))


def figures(work):
    return {(r['task'], r['row']): r['ours']
            for t in report(work)['tables'] for r in t['rows']}


# --------------------------------------------------- runs with stub tasks
EXPECTED = {
    ('det', 'AP'): 42.0,
    ('det', 'AP50'): 71.0,
    ('det', 'AP75'): 33.0,
    ('linear', 'ImageNet top-1'): 61.5,
    ('svm', 'VOC07 SVM mAP'): 55.5,
    ('inat18', 'iNat18 top-1'): 61.5,
    ('per_layer', 'conv1'): 10.0,
    ('per_layer', 'res5'): 14.0,
    ('semisup_1pct', '1% labels top-5'): 83.25,
    ('semisup_10pct', '10% labels top-5'): 83.25,
}


def test_stub_suite_reads_every_task_and_goes_on_after_a_failure(
        roots, r18_ckpt, tmp_path, monkeypatch):
    calls = stub_env(monkeypatch, tmp_path, plan=dict(places205='fail'))
    work = str(tmp_path / 'work')
    code = run_suite(r18_ckpt, work, stub_suite(tmp_path), roots=roots)
    assert code == 1  # one task failed
    assert called(calls) == list(TASKS)  # the tasks after it still ran
    got = figures(work)
    for key, value in EXPECTED.items():
        assert got[key] == pytest.approx(value), key
    assert got[('places205', 'Places205 top-1')] is None
    tasks = report(work)['tasks']
    assert tasks['places205']['status'] == 'failed'
    assert 'exit status 3' in tasks['places205']['reason']
    log = tasks['places205']['log']
    assert 'failing on purpose' in open(log).read()
    md = open(osp.join(work, 'eval_suite.md')).read()
    assert log in md and '| AP50 | 71.0 | 80.7 | 75.1 | -9.7 |' in md
    assert osp.getsize(osp.join(work, 'eval_suite.png')) > 1000
    # the R18 channels went into the configs the tools received
    cfg = Config.fromfile(tasks['per_layer']['config'])
    assert list(cfg.model.head.in_channels) == [64, 64, 128, 256, 512]
    assert cfg.model.backbone.init_cfg.checkpoint == osp.join(
        work, 'backbone.pth')

    # the same command again: only the failed task runs
    monkeypatch.setenv('STUB_PLAN', '{}')
    open(calls, 'w').close()
    assert run_suite(r18_ckpt, work, stub_suite(tmp_path), roots=roots) == 0
    assert called(calls) == ['places205']
    assert figures(work)[('places205', 'Places205 top-1')] == 61.5
    assert figures(work)[('det', 'AP')] == pytest.approx(42.0)


def test_stub_suite_reruns_what_a_new_checkpoint_or_data_root_changes(
        roots, tmp_path, monkeypatch):
    calls = stub_env(monkeypatch, tmp_path)
    ckpt = save_backbone_ckpt(tmp_path / 'a.pth', depth=18)
    work = str(tmp_path / 'work')
    suite = stub_suite(tmp_path)
    both = ['linear', 'svm']
    assert run_suite(ckpt, work, suite, tasks=both, roots=roots) == 0
    assert called(calls) == both
    # the VOC root moves: the SVM (which gets it on its command line, not
    # in its config) runs again, the ImageNet task does not
    moved = dict(roots, voc=str(tmp_path / 'voc_copy'))
    os.symlink(roots['voc'], moved['voc'])
    assert run_suite(ckpt, work, suite, tasks=both, roots=moved) == 0
    assert called(calls) == both + ['svm']
    save_backbone_ckpt(ckpt, seed=1, depth=18)  # same path, new weights
    assert run_suite(ckpt, work, suite, tasks=['linear'], roots=moved) == 0
    assert called(calls) == both + ['svm', 'linear']


def test_stub_suite_skips_tasks_without_data(roots, r18_ckpt, tmp_path,
                                             monkeypatch, capsys):
    calls = stub_env(monkeypatch, tmp_path)
    work = str(tmp_path / 'work')
    some = dict(roots, inat18=str(tmp_path / 'nowhere'))
    subset = osp.join(roots['imagenet'], 'meta', 'train_10pct_seed0.txt')
    saved = open(subset).read()
    os.remove(subset)
    try:
        code = run_suite(r18_ckpt, work, stub_suite(tmp_path), roots=some)
    finally:
        with open(subset, 'w') as f:
            f.write(saved)
    assert code == 0
    assert 'inat18' not in called(calls)
    assert 'semisup_10pct' not in called(calls)
    assert 'semisup_1pct' in called(calls)
    out = capsys.readouterr().out
    assert f"[inat18] skipped: no data: inat18 root '{some['inat18']}'" in out
    assert 'train_10pct_seed0.txt' in report(
        work)['tasks']['semisup_10pct']['reason']


def test_stub_suite_continues_a_run_that_did_not_finish(
        roots, r18_ckpt, tmp_path, monkeypatch):
    calls = stub_env(monkeypatch, tmp_path, plan=dict(linear='short'))
    work = str(tmp_path / 'work')
    suite = stub_suite(tmp_path)
    assert run_suite(r18_ckpt, work, suite, tasks=['linear'], roots=roots) == 1
    reason = report(work)['tasks']['linear']['reason']
    assert 'not at the last one (28)' in reason
    monkeypatch.setenv('STUB_PLAN', '{}')
    time.sleep(1.1)  # a new run folder
    assert run_suite(r18_ckpt, work, suite, tasks=['linear'], roots=roots) == 0
    lines = open(calls).read().splitlines()
    assert '--resume' not in lines[0] and lines[1].endswith('--resume')


def test_ctrl_c_stops_and_the_same_command_continues(roots, r18_ckpt,
                                                     tmp_path):
    calls = str(tmp_path / 'calls.txt')
    work = str(tmp_path / 'work')
    cmd = [
        sys.executable, TOOL, r18_ckpt, '--work-dir', work, '--suite',
        stub_suite(tmp_path), '--tasks', 'det,linear,svm', '--data-root'
    ] + [f'{k}={v}' for k, v in roots.items()]
    env = dict(
        os.environ,
        STUB_CALLS=calls,
        PYTHONPATH=REPO,
        STUB_PLAN=json.dumps(dict(linear='sleep')))
    # a test run started in the background by a non-interactive shell
    # ignores SIGINT, and so would the tool: give it the default, as in a
    # terminal
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # wait for the sleeping linear task (a loaded machine may take minutes
    # to start the tool and run det)
    deadline = time.time() + 300
    while 'linear' not in called(calls) and time.time() < deadline:
        time.sleep(0.2)
    assert called(calls) == ['det', 'linear'], called(calls)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 130, out
    assert 'run the same command again to continue' in out
    tasks = report(work)['tasks']
    assert tasks['det']['status'] == 'done'
    assert 'svm' not in tasks and 'svm' not in called(calls)
    state = json.load(open(osp.join(work, 'linear', 'suite_task.json')))
    assert state['status'] == 'interrupted'
    pid = int(open(calls).read().splitlines()[1].split()[1])
    with pytest.raises(ProcessLookupError):  # the tool was stopped too
        os.kill(pid, 0)

    env['STUB_PLAN'] = '{}'
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert called(calls) == ['det', 'linear', 'linear', 'svm']
    assert '[det] done (finished before, not re-run)' in proc.stdout
    assert figures(work)[('linear', 'ImageNet top-1')] == 61.5


def test_a_narrow_backbone_converts_and_runs_all_but_detection(
        roots, tmp_path, monkeypatch):
    """The demo's width-16 ResNet-18: converted once (the converter builds
    the weights' widths), the linear config gets them, and the C4 detector,
    which MMDetection builds at width 64 only, fails with the reason while
    the next task runs."""
    calls = stub_env(monkeypatch, tmp_path)
    ckpt = save_backbone_ckpt(
        tmp_path / 'w16.pth', depth=18, stem_channels=16, base_channels=16)
    work = str(tmp_path / 'work')
    code = run_suite(
        ckpt, work, stub_suite(tmp_path), tasks=['det', 'linear'], roots=roots)
    assert code == 1 and called(calls) == ['linear']
    tasks = report(work)['tasks']
    assert 'width 64 only' in tasks['det']['reason']
    cfg = Config.fromfile(tasks['linear']['config'])
    assert cfg.model.backbone.base_channels == 16
    assert list(cfg.model.head.in_channels) == [128]
    weights = torch.load(osp.join(work, 'backbone.pth'))['state_dict']
    assert weights['layer4.1.conv2.weight'].shape[0] == 128


# ------------------------------------------------------------ end to end
CLS_OPTIONS = {
    'train_cfg.max_epochs': 1,
    'train_cfg.val_interval': 1,
    'default_hooks.logger.interval': 1,
    # 64 px crops instead of 224 (RandomResizedCrop; ResizeEdge, CenterCrop)
    'train_dataloader.dataset.pipeline.1.scale': 64,
    'val_dataloader.dataset.pipeline.1.scale': 73,
    'val_dataloader.dataset.pipeline.2.crop_size': 64,
}


def e2e_suite(tmp_path, data_root):
    det_cfg = str(tmp_path / 'faster-rcnn_c4_tiny.py')
    with open(det_cfg, 'w') as f:  # small images, 2 iterations
        f.write(
            SMALL_DET_CFG.format(
                base=load_suite(SUITE).tasks['det'].config,
                data_root=data_root,
                iters=2))
    path = str(tmp_path / 'e2e_suite.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{SUITE!r}]\n_tiny = {CLS_OPTIONS!r}\n')
        f.write(f'tasks = dict(det=dict(config={det_cfg!r}),\n')
        f.write("    svm=dict(args=['--costs', '1', '--cv-folds', '2', "
                "'--num-workers', '0', '--img-size', '64']),\n")
        for name in TASKS[3:] + ('linear', ):
            f.write(f'    {name}=dict(cfg_options=_tiny),\n')
        f.write(')\n')
    return path


@pytest.mark.slow
def test_every_task_runs_for_real_on_the_stand_ins(roots, tmp_path):
    """A freshly initialised PIRL ResNet-18 (the demo model) through every
    task of the suite, each a real tiny run of its config and tool."""
    ckpt = str(tmp_path / 'pirl_r18_epoch_1.pth')
    save_like_mmengine(build_pirl(depth=18), ckpt)
    work = str(tmp_path / 'work')
    cmd = [
        sys.executable, TOOL, ckpt, '--work-dir', work, '--suite',
        e2e_suite(tmp_path, roots['voc']), '--cfg-options',
        'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
        'val_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.persistent_workers=False', '--data-root'
    ] + [f'{k}={v}' for k, v in roots.items()]
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='2')
    start = time.time()
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1500)
    took = time.time() - start
    print(f'end-to-end suite: {took:.0f} s')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    tasks = report(work)['tasks']
    assert sorted(tasks) == sorted(TASKS)
    backbone = osp.join(work, 'backbone.pth')
    for name, state in tasks.items():
        assert state['status'] == 'done', (name, state)
        log = open(state['log']).read()
        assert backbone in log.split('\n', 1)[0] or \
            f'load model from: {backbone}' in log, name
    for key, value in figures(work).items():
        assert 0.0 <= value <= 100.0, key
    # nothing runs twice
    again = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert again.stdout.count('finished before, not re-run') == len(TASKS)
