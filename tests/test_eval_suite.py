"""tools/eval_suite.py, its parts: the metric reader (on known
``scalars.json`` rows and on the detection config's real VOCMetric), the
backbone's shape read from checkpoints and applied to the task configs, and
the commands of each launcher. The runs are in test_eval_suite_runs.py."""
import json
import os
import os.path as osp
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
                                          resolve_arch)
from pirl_plugin.evaluation.suite.arch import (apply_backbone,
                                               apply_c4_detector,
                                               set_data_root)
from pirl_plugin.evaluation.suite.commands import Launch, build_command
from pirl_plugin.utils.resnet_weights import ConversionError

sys.path.insert(0, osp.join(REPO, 'tests', 'helpers'))
from eval_suite_data import SUITE, save_backbone_ckpt  # noqa: E402


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


def test_arch_from_config_must_match_the_weights(tmp_path):
    r18_ckpt = save_backbone_ckpt(tmp_path / 'r18.pth', depth=18)
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
