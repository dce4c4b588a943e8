"""tools/eval_suite.py: the paper's evaluation from one checkpoint.

Stub tasks (tests/helpers/eval_suite_stub.py, which writes known figures)
check the metric reader, the report, resumption, skipping, failures and
Ctrl-C; one slow test runs every real task on tiny stand-ins of the
datasets."""
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

import pirl_plugin  # noqa: F401
from pirl_plugin.evaluation.suite import (Metric, MetricError, ResNetArch,
                                          load_suite, read_scalars_metrics,
                                          resolve_arch, run_suite)
from pirl_plugin.evaluation.suite.arch import (apply_backbone,
                                               apply_c4_detector,
                                               set_data_root)
from pirl_plugin.evaluation.suite.commands import Launch, build_command
from pirl_plugin.utils.resnet_weights import ConversionError

sys.path.insert(0, osp.join(REPO, 'tests', 'helpers'))
from eval_suite_data import make_all  # noqa: E402

SUITE = osp.join(REPO, 'configs', 'benchmarks', 'eval_suite.py')
STUB = osp.join(REPO, 'tests', 'helpers', 'eval_suite_stub.py')
TOOL = osp.join(REPO, 'tools', 'eval_suite.py')
TASKS = ('det', 'linear', 'svm', 'places205', 'inat18', 'per_layer',
         'semisup_1pct', 'semisup_10pct')


def save_backbone_ckpt(path, seed=0, **arch):
    """A PIRL-like checkpoint: ``backbone.*`` of an MMPretrain ResNet and
    a memory bank."""
    from mmpretrain.models.backbones import ResNet
    torch.manual_seed(seed)
    net = ResNet(**arch)
    state = {f'backbone.{k}': v for k, v in net.state_dict().items()}
    state['memory_bank.bank'] = torch.randn(8, 4)
    torch.save(dict(state_dict=state, meta=dict(epoch=1)), path)
    return str(path)


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


# ------------------------------------------------------------ reader
def write_rows(work, rows, stamp='20260101_000000'):
    run = osp.join(work, stamp, 'vis_data')
    os.makedirs(run, exist_ok=True)
    with open(osp.join(run, 'scalars.json'), 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in rows)


AP_ROWS = [
    dict(loss=1.0, step=1),
    {
        'pascal_voc/mAP': 0.1,
        'pascal_voc/AP50': 0.2,
        'step': 2
    },
    {
        'pascal_voc/mAP': 0.3,
        'pascal_voc/AP50': 0.6,
        'step': 4
    },
    dict(loss=0.5, step=4),
]
AP = [
    Metric('AP', 'pascal_voc/mAP', scale=100),
    Metric('AP50', 'pascal_voc/AP50', scale=100)
]


def test_reader_takes_the_last_evaluation_and_the_named_key(tmp_path):
    write_rows(str(tmp_path), AP_ROWS)
    got = read_scalars_metrics(str(tmp_path), AP, step=4)
    assert got == pytest.approx({'AP': 30.0, 'AP50': 60.0})


def test_reader_refuses_an_unfinished_run_and_an_unknown_key(tmp_path):
    write_rows(str(tmp_path), AP_ROWS)
    with pytest.raises(MetricError, match='not at the last one'):
        read_scalars_metrics(str(tmp_path), AP, step=6)
    with pytest.raises(MetricError, match="no 'coco/bbox_mAP'"):
        read_scalars_metrics(
            str(tmp_path), AP + [Metric('x', 'coco/bbox_mAP')], step=4)


def test_last_step_is_where_the_logger_puts_the_final_evaluation():
    from pirl_plugin.evaluation.suite.metrics import last_step
    epochs = Config(dict(train_cfg=dict(max_epochs=28)))
    assert last_step(epochs) == 28
    iters = Config(dict(train_cfg=dict(max_iters=25000)))
    assert last_step(iters) is None  # MMEngine logs it at epoch 0
    iters.default_hooks = dict(logger=dict(log_metric_by_epoch=False))
    assert last_step(iters) == 25000
    suite = load_suite(SUITE)
    det = Config.fromfile(suite.tasks['det'].config)
    det.merge_from_dict(suite.tasks['det'].cfg_options)
    assert last_step(det) == 25000


def test_reader_reads_the_newest_run(tmp_path):
    write_rows(str(tmp_path), AP_ROWS)
    time.sleep(0.05)
    write_rows(
        str(tmp_path), [{
            'pascal_voc/mAP': 0.5,
            'pascal_voc/AP50': 0.9,
            'step': 4
        }],
        stamp='20260101_000001')
    got = read_scalars_metrics(str(tmp_path), AP, step=4)
    assert got == pytest.approx({'AP': 50.0, 'AP50': 90.0})


def test_voc_metric_of_the_detection_config_logs_the_suite_keys():
    """The detection config's VOCMetric (IoU 0.50:0.95), run on one image
    with one box found exactly, returns the keys the suite reads, as
    fractions (hence scale 100)."""
    import numpy as np
    from mmdet.registry import METRICS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    det = load_suite(SUITE).tasks['det']
    cfg = Config.fromfile(det.config)
    metric = METRICS.build(dict(cfg.val_evaluator))
    metric.dataset_meta = dict(classes=('car', 'dog'))
    box = np.array([[10., 10., 50., 60.]], np.float32)
    metric.process({}, [
        dict(
            gt_instances=dict(
                bboxes=torch.tensor(box), labels=torch.tensor([0])),
            ignored_instances=dict(
                bboxes=torch.zeros(0, 4), labels=torch.zeros(0).long()),
            pred_instances=dict(
                bboxes=torch.tensor(box),
                scores=torch.tensor([0.9]),
                labels=torch.tensor([0])))
    ])
    results = metric.evaluate(1)
    keys = {m.key for m in det.metrics}
    assert keys == {'pascal_voc/mAP', 'pascal_voc/AP50', 'pascal_voc/AP75'}
    assert keys <= set(results), results
    assert results['pascal_voc/AP50'] == pytest.approx(1.0)


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
    assert run_suite(
        ckpt, work, suite, tasks=['linear', 'det'], roots=roots) == 0
    assert called(calls) == ['linear', 'det']
    save_backbone_ckpt(ckpt, seed=1, depth=18)  # same path, new weights
    assert run_suite(ckpt, work, suite, tasks=['linear'], roots=roots) == 0
    assert called(calls) == ['linear', 'det', 'linear']
    moved = dict(roots, voc=str(tmp_path / 'voc_copy'))
    os.symlink(roots['voc'], moved['voc'])
    assert run_suite(
        ckpt, work, suite, tasks=['linear', 'det'], roots=moved) == 0
    assert called(calls) == ['linear', 'det', 'linear', 'det']


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
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True)
    deadline = time.time() + 120
    while called(calls) != ['det', 'linear'] and time.time() < deadline:
        time.sleep(0.2)
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

    env['STUB_PLAN'] = '{}'
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert called(calls) == ['det', 'linear', 'linear', 'svm']
    assert '[det] done (finished before, not re-run)' in proc.stdout
    assert figures(work)[('linear', 'ImageNet top-1')] == 61.5


# ------------------------------------------------ architecture, commands
@pytest.mark.parametrize('arch', [
    dict(depth=18),
    dict(depth=50),
    dict(depth=18, stem_channels=16, base_channels=16),
])
def test_arch_is_read_from_the_weights(arch, tmp_path):
    path = save_backbone_ckpt(tmp_path / 'ckpt.pth', **arch)
    want = ResNetArch(**dict(dict(stem_channels=64, base_channels=64), **arch))
    assert resolve_arch(path, None) == want


def test_arch_from_config_must_match_the_weights(r18_ckpt):
    demo = osp.join(REPO, 'configs', 'pirl',
                    'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')
    assert resolve_arch(r18_ckpt, demo) == ResNetArch(18, 64, 64)
    r50 = osp.join(REPO, 'configs', 'pirl',
                   'pirl_resnet50_8xb32-coslr-200e_in1k.py')
    with pytest.raises(ConversionError, match='builds ResNetArch'):
        resolve_arch(r18_ckpt, r50)


def _cfg(task):
    return Config.fromfile(load_suite(SUITE).tasks[task].config)


def test_arch_goes_into_heads_necks_and_the_c4_detector():
    arch = ResNetArch(depth=18, stem_channels=16, base_channels=16)
    per_layer = _cfg('per_layer')
    apply_backbone(per_layer, arch)
    assert per_layer.model.head.in_channels == (16, 16, 32, 64, 128)
    assert per_layer.model.backbone.base_channels == 16
    semisup = _cfg('semisup_1pct')
    apply_backbone(semisup, arch)
    assert semisup.model.head.in_channels == 128
    det = _cfg('det')
    apply_c4_detector(det, ResNetArch(depth=18))
    assert det.model.rpn_head.in_channels == 256
    assert det.model.roi_head.bbox_roi_extractor.out_channels == 256
    assert det.model.roi_head.shared_head.depth == 18
    assert det.model.roi_head.bbox_head.in_channels == 512
    with pytest.raises(ConversionError, match='width 64 only'):
        apply_c4_detector(_cfg('det'), arch)
    # the ResNet-50 defaults are left as the configs have them
    det50 = _cfg('det')
    apply_c4_detector(det50, ResNetArch())
    assert det50.model.rpn_head.in_channels == 1024
    assert det50.model.roi_head.bbox_head.in_channels == 2048


def test_data_root_reaches_every_dataset_of_voc0712():
    det = _cfg('det')
    assert set_data_root(det, '/data/voc') == 4  # 2 train, val, test
    for d in det.train_dataloader.dataset.datasets:
        assert d.data_root == '/data/voc'
    assert det.test_dataloader.dataset.data_root == '/data/voc'


def test_commands_for_each_launcher():
    suite = load_suite(SUITE)
    det, svm = suite.tasks['det'], suite.tasks['svm']
    cmd, env = build_command(
        det,
        'c.py',
        'bb.pth',
        '/voc',
        'w/det',
        Launch('pytorch', 8),
        resume=True)
    assert cmd[:2] == ['bash', osp.join(REPO, 'tools', 'dist_train.sh')]
    assert cmd[2:] == [
        'c.py', '8', '--work-dir', 'w/det', 'bb.pth', '--resume'
    ]
    assert env['TRAIN_SCRIPT'].endswith('tools/det_train.py')
    cmd, env = build_command(
        suite.tasks['linear'],
        'c.py',
        'bb.pth',
        '/in',
        'w/linear',
        Launch('slurm', 16, 'gpu'),
        resume=False)
    assert cmd[1:] == [
        osp.join(REPO, 'tools', 'slurm_train.sh'), 'gpu', 'pirl_eval_linear',
        'c.py', 'w/linear'
    ]
    assert env['GPUS'] == '16' and env['TRAIN_SCRIPT'].endswith('train.py')
    cmd, _ = build_command(
        svm, 'c.py', 'bb.pth', '/voc/VOC2007', 'w/svm', Launch(), resume=False)
    assert cmd[1:6] == [
        osp.join(REPO, 'tools', 'voc07_svm.py'), 'c.py', 'bb.pth',
        '--data-root', '/voc/VOC2007'
    ]


def test_slurm_train_runs_the_train_script_it_is_given(tmp_path):
    """tools/slurm_train.sh with TRAIN_SCRIPT (det_train.py for the
    detection task); srun is a stand-in that prints its arguments."""
    srun = tmp_path / 'srun'
    srun.write_text('#!/bin/sh\necho "$@"\n')
    srun.chmod(0o755)
    env = dict(
        os.environ,
        PATH=f'{tmp_path}:{os.environ["PATH"]}',
        TRAIN_SCRIPT='tools/det_train.py')
    out = subprocess.run(
        ['bash', 'tools/slurm_train.sh', 'p', 'job', 'c.py', 'w', 'bb.pth'],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True).stdout
    assert 'tools/det_train.py c.py --work-dir=w --launcher=slurm bb.pth' \
        in out
    del env['TRAIN_SCRIPT']
    out = subprocess.run(
        ['bash', 'tools/slurm_train.sh', 'p', 'job', 'c.py', 'w'],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True).stdout
    assert 'tools/train.py c.py --work-dir=w' in out


# ------------------------------------------------------------ end to end
TINY_DET = """
_base_ = {base!r}
# the paper config at the stand-in's scale: small images, 2 iterations
# (the backbone's channels and the data root come from the suite)
model = dict(
    train_cfg=dict(rpn_proposal=dict(nms_pre=300, max_per_img=50),
                   rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=50)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(160, 128), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(160, 128), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                          'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(datasets=[
        dict(_base_.train_dataloader.dataset.datasets[0],
             pipeline=train_pipeline),
        dict(_base_.train_dataloader.dataset.datasets[1],
             pipeline=train_pipeline)]))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=2)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
"""

CLS_OPTIONS = {
    'train_cfg.max_epochs': 1,
    'train_cfg.val_interval': 1,
    'default_hooks.logger.interval': 1,
    'default_hooks.checkpoint.interval': 1,
}


def e2e_suite(tmp_path):
    det_cfg = str(tmp_path / 'faster-rcnn_c4_tiny.py')
    with open(det_cfg, 'w') as f:
        f.write(TINY_DET.format(base=load_suite(SUITE).tasks['det'].config))
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
    from test_detection import build_pirl, save_like_mmengine
    ckpt = str(tmp_path / 'pirl_r18_epoch_1.pth')
    save_like_mmengine(build_pirl(depth=18), ckpt)
    work = str(tmp_path / 'work')
    cmd = [
        sys.executable, TOOL, ckpt, '--work-dir', work, '--suite',
        e2e_suite(tmp_path), '--cfg-options', 'train_dataloader.batch_size=4',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
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
    det = Config.fromfile(tasks['det']['config'])
    assert det.model.roi_head.bbox_head.in_channels == 512  # ResNet-18
    # nothing runs twice
    again = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert again.stdout.count('finished before, not re-run') == len(TASKS)


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
