"""Classification benchmarks: linear probes (per layer), VOC07 SVM,
semi-supervised subsets and fine-tuning, kNN tool and kNN monitor hook."""
import glob
import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO, run_tool
from mmengine.config import Config
from mmengine.registry import init_default_scope

import pirl_plugin  # noqa: F401
from pirl_plugin.evaluation import (MultiLayerAccuracy, average_precision,
                                    class_balanced_subset, knn_accuracies,
                                    svm_benchmark, voc07_targets)

BENCH = osp.join(REPO, 'configs', 'benchmarks', 'mmpretrain')
PER_LAYER_DEMO = osp.join(BENCH,
                          'pirl_resnet18_per-layer-linear_shapes-demo.py')
SEMISUP_DEMO = osp.join(BENCH, 'pirl_resnet18_semisup-10pct_shapes-demo.py')
KNN_MONITOR = osp.join(
    BENCH, 'pirl_resnet18_1xb64-knn-monitor-coslr-20e_shapes-demo.py')
PIRL_DEMO = osp.join(REPO, 'configs', 'pirl',
                     'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')
CONFIGS = sorted(glob.glob(osp.join(BENCH, '*.py')))
LAYERS = ('conv1', 'res2', 'res3', 'res4', 'res5')


def load_tool(name):
    """Import tools/<name>.py as a module."""
    path = osp.join(REPO, 'tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'tool_{osp.basename(name)}',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def pirl_checkpoint(tmp_path_factory):
    """A raw PIRL checkpoint (ResNet-18 demo model at its random init)."""
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(PIRL_DEMO)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    path = str(tmp_path_factory.mktemp('ckpt') / 'pirl_r18.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


COLOURS = {'red': (0, 0, 230), 'green': (0, 200, 0), 'blue': (230, 0, 0)}


def colour_image(name, rng, size=48):
    img = np.full((size, size, 3), COLOURS[name], np.float32)
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope='module')
def colour_root(tmp_path_factory):
    """root/{train,test}/<colour>/*.jpg: classes any backbone separates."""
    root = tmp_path_factory.mktemp('colours')
    rng = np.random.default_rng(0)
    for split, n in (('train', 6), ('test', 3)):
        for name in COLOURS:
            d = root / split / name
            d.mkdir(parents=True)
            for i in range(n):
                cv2.imwrite(str(d / f'{i}.jpg'), colour_image(name, rng))
    return str(root)


# --------------------------------------------------------------- configs
@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path):
    from mmpretrain.registry import DATASETS, HOOKS, METRICS, MODELS
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert 'pirl_plugin' in cfg.custom_imports['imports']
    assert cfg.custom_imports['allow_failed_imports'] is False
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)  # no weights are loaded here
    if cfg.model.type == 'ImageClassifier':
        init = cfg.model.backbone.init_cfg
        assert init.type == 'Pretrained' and init.prefix == 'backbone.'
        assert 'torchvision://' not in str(init.checkpoint)
        if 'linear' in osp.basename(path):
            assert cfg.model.backbone.frozen_stages == 4
            assert cfg.model.backbone.norm_eval is True
            model.train()
            assert not any(p.requires_grad
                           for p in model.backbone.parameters())
            assert all(p.requires_grad for p in model.head.parameters())
        for key in ('train_dataloader', 'val_dataloader'):
            assert DATASETS.get(cfg[key].dataset.type) is not None
        evaluators = cfg.val_evaluator
        for ev in evaluators if isinstance(evaluators, list) else [evaluators]:
            assert METRICS.get(ev['type']) is not None
    else:  # the pre-training config with the kNN monitor
        assert cfg.model.type == 'PIRL'
        hooks = [HOOKS.build(h) for h in cfg.custom_hooks]
        assert any(type(h).__name__ == 'KNNMonitorHook' for h in hooks)


def test_per_layer_config_pools_to_about_9k():
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(
        osp.join(BENCH, 'pirl_resnet50_per-layer-linear_in1k.py'))
    head = MODELS.build(cfg.model.head)
    assert head.feat_dims == dict(
        conv1=9216, res2=9216, res3=8192, res4=9216, res5=8192)


def test_paper_protocol_is_res5_avgpool():
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(
        osp.join(BENCH, 'pirl_resnet50_8xb32-linear-steplr-28e_in1k.py'))
    model = MODELS.build(cfg.model)
    assert model.head.feat_dims == dict(res5=2048)
    out = model(torch.rand(2, 3, 64, 64), mode='tensor')
    assert out[0].shape == (2, 1000)


# ---------------------------------------------- backbone, head and metric
def test_resnet_with_stem_matches_resnet():
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    ref = MODELS.build(dict(type='ResNet', depth=18, out_indices=(0, 1, 2, 3)))
    stem = MODELS.build(
        dict(type='ResNetWithStem', depth=18, out_indices=(0, 1, 2, 3)))
    stem.load_state_dict(ref.state_dict())  # same parameter names
    ref.eval(), stem.eval()
    x = torch.rand(2, 3, 64, 64)
    outs, ref_outs = stem(x), ref(x)
    assert len(outs) == 5 and outs[0].shape == (2, 64, 32, 32)
    for a, b in zip(outs[1:], ref_outs):
        torch.testing.assert_close(a, b)


def test_per_layer_head_trains_five_classifiers_and_metric_reports_them():
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    init_default_scope('mmpretrain')
    head = MODELS.build(
        dict(
            type='MultiLayerLinearClsHead',
            num_classes=3,
            in_channels=(64, 64, 128, 256, 512)))
    feats = (torch.rand(4, 64, 32, 32), torch.rand(4, 64, 16, 16),
             torch.rand(4, 128, 8, 8), torch.rand(4, 256, 4,
                                                  4), torch.rand(4, 512, 2, 2))
    samples = [DataSample().set_gt_label(i % 3) for i in range(4)]
    losses = head.loss(feats, samples)
    assert sorted(losses) == sorted(f'loss_{n}' for n in LAYERS)
    sum(losses.values()).backward()
    assert all(fc.weight.grad is not None for fc in head.fcs)

    head.eval()
    preds = head.predict(feats,
                         [DataSample().set_gt_label(i % 3) for i in range(4)])
    assert sorted(preds[0].layer_scores) == sorted(LAYERS)
    torch.testing.assert_close(preds[0].pred_score,
                               preds[0].layer_scores['res5'])
    metric = MultiLayerAccuracy(topk=1)
    metric.process(None, [p.to_dict() for p in preds])
    results = metric.evaluate(4)
    for name in LAYERS:
        assert 0 <= results[f'layer_top1/{name}'] <= 100
    assert results['layer_top1/best'] == max(results[f'layer_top1/{n}']
                                             for n in LAYERS)
    top3 = MultiLayerAccuracy(topk=3)  # top-3 of 3 classes is always right
    top3.process(None, [p.to_dict() for p in preds])
    assert all(v == 100 for v in top3.evaluate(4).values())


def test_head_refuses_too_few_feature_maps():
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    head = MODELS.build(
        dict(
            type='MultiLayerLinearClsHead',
            num_classes=3,
            in_channels=(64, 64, 128, 256, 512)))
    with pytest.raises(ValueError, match='ResNetWithStem'):
        head((torch.rand(2, 512, 2, 2), ))


# ------------------------------------------------------------------ SVM
def test_voc07_targets_positive_difficult_negative():
    t = voc07_targets([[0], [], [1, 2]], [[1], [0], [2]], num_classes=4)
    np.testing.assert_array_equal(
        t, [[1, 0, -1, -1], [0, -1, -1, -1], [-1, 1, 1, -1]])


def test_average_precision_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    targets = np.array([1, -1, 1, -1, 0])  # the last one is ignored
    assert average_precision(scores,
                             targets) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert average_precision(scores, targets, '11point') == pytest.approx(
        (6 + 5 * 2 / 3) / 11)
    assert average_precision(scores, np.array([1, 1, -1, -1, -1])) == 1.0
    assert np.isnan(average_precision(scores, -np.ones(5)))


def _blobs(rng, n, num_classes, dim=32):
    """Multi-label data whose classes are linearly separable."""
    labels = rng.random((n, num_classes)) < 0.3
    feats = rng.normal(0, 0.1, (n, dim))
    feats[:, :num_classes] += labels * 3.0
    feats[:, -1] += 5.0  # keeps the norm (and so the L2 scaling) similar
    return feats, np.where(labels, 1, -1).astype(np.int8)


def test_svm_map_is_100_on_separable_features(rng):
    x, y = _blobs(rng, 300, 5)
    y[:10, 0] = 0  # difficult-only images are ignored
    res = svm_benchmark(
        x[:200], y[:200], x[200:], y[200:], costs=(0.01, 1.0), cv_folds=3)
    assert res['mAP'] == pytest.approx(100.0)
    assert set(res['ap']) == {'0', '1', '2', '3', '4'}
    assert all(c in (0.01, 1.0) for c in res['cost'].values())


def test_svm_map_is_chance_on_random_labels(rng):
    x = rng.normal(size=(600, 64))
    y = np.where(rng.random((600, 10)) < 0.3, 1, -1).astype(np.int8)
    res = svm_benchmark(
        x[:300], y[:300], x[300:], y[300:], costs=(0.01, 1.0), cv_folds=2)
    chance = 100 * (y[300:] > 0).mean()
    assert abs(res['mAP'] - chance) < 8, (res['mAP'], chance)


def test_svm_skips_classes_without_positives(rng):
    x, y = _blobs(rng, 120, 3)
    y[:, 2] = -1
    res = svm_benchmark(x[:80], y[:80], x[80:], y[80:], costs=(1.0, ))
    assert res['ap']['2'] is None and res['skipped'] == ['2']
    assert res['mAP'] == pytest.approx(100.0)


# ------------------------------------------------------ subsets and kNN
def test_class_balanced_subset_is_balanced_seeded_and_nested():
    rng = np.random.default_rng(0)
    samples = [(f'c{c}/img_{i}.JPEG', c) for c in range(20)
               for i in range(int(rng.integers(80, 120)))]
    sub, info = class_balanced_subset(samples, fraction=0.1, seed=3)
    counts = np.bincount([label for _, label in sub])
    assert info['num_classes'] == 20 and (counts == info['per_class']).all()
    assert info['per_class'] == round(0.1 * len(samples) / 20)
    assert class_balanced_subset(
        samples[::-1], fraction=0.1, seed=3)[0] == sub  # order-independent
    assert class_balanced_subset(samples, fraction=0.1, seed=4)[0] != sub
    small, _ = class_balanced_subset(samples, fraction=0.01, seed=3)
    assert set(small) <= set(sub)
    assert set(sub) <= set(samples)


def test_subset_tool_is_reproducible(tmp_path):
    tool = load_tool('dataset_converters/make_semi_supervised_subset')
    ann = tmp_path / 'train.txt'
    ann.write_text(''.join(f'n{c:03d}/x_{i}.JPEG {c}\n' for c in range(10)
                           for i in range(50 + c)))
    outs = []
    for name, seed in (('a.txt', 0), ('b.txt', 0), ('c.txt', 1)):
        out = str(tmp_path / name)
        tool.main([
            '--ann-file',
            str(ann), '--percent', '10', '--seed',
            str(seed), '--out', out
        ])
        outs.append(open(out).read())
    assert outs[0] == outs[1] and outs[0] != outs[2]
    lines = outs[0].splitlines()
    labels = [int(line.split()[1]) for line in lines]
    assert np.bincount(labels).tolist() == [5] * 10  # round(.1 * 545 / 10)
    assert all(line.split()[0].endswith('.JPEG') for line in lines)


def test_knn_accuracy_is_100_on_separable_features():
    torch.manual_seed(0)
    centres = torch.eye(8)[:4] * 5
    train = torch.cat(
        [centres[c] + 0.1 * torch.randn(10, 8) for c in range(4)])
    test = torch.cat([centres[c] + 0.1 * torch.randn(5, 8) for c in range(4)])
    norm = torch.nn.functional.normalize
    labels = torch.arange(4)
    accs = knn_accuracies(
        norm(train, dim=1),
        labels.repeat_interleave(10),
        norm(test, dim=1),
        labels.repeat_interleave(5),
        ks=(1, 20))
    assert accs == {1: 100.0, 20: 100.0}


def test_knn_monitor_hook_off_when_not_configured():
    from mmpretrain.registry import HOOKS
    init_default_scope('mmpretrain')
    hook = HOOKS.build(dict(type='KNNMonitorHook'))
    assert not hook.enabled

    class Runner:  # the hook must not touch anything but the logger
        epoch, iter = 0, 0

        class logger:
            messages = []

            @classmethod
            def info(cls, msg):
                cls.messages.append(msg)

    hook.before_train(Runner)
    hook.after_train_epoch(Runner)
    assert 'off' in Runner.logger.messages[0]
    with pytest.raises(ValueError, match='interval'):
        HOOKS.build(dict(type='KNNMonitorHook', interval=0))


def test_knn_monitor_curve_equals_tool_and_demo_for_one_checkpoint(
        shapes_root, pirl_checkpoint, tmp_path):
    """One number for one model: the kNN monitor's value (the demo's curve),
    tools/knn_eval.py and the demo's final bar agree exactly for the same
    checkpoint (they once differed: 52 on the curve, 51.4 on the bar)."""
    import demo
    import knn_eval
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.runner import Runner as MMRunner
    from mmpretrain.registry import HOOKS, MODELS

    from pirl_plugin.evaluation import folder_dataloaders
    from pirl_plugin.evaluation.probe import view_size
    from pirl_plugin.utils.checkpoints import load_weights
    init_default_scope('mmpretrain')
    ks = [20, 1, 3, 5, 10]
    loaders = folder_dataloaders(shapes_root, 64, batch_size=16)
    hook = HOOKS.build(
        dict(
            type='KNNMonitorHook',
            k=ks,
            train_dataloader=loaders[0],
            val_dataloader=loaders[1]))
    model = MODELS.build(Config.fromfile(PIRL_DEMO).model)
    load_weights(model, pirl_checkpoint)

    class Runner:  # what the hook reads of MMEngine's Runner
        epoch, iter, seed = 0, 0, 0
        log_dir = str(tmp_path)
        message_hub = MessageHub.get_instance('knn_equality')
        logger = MMLogger.get_instance('knn_equality')
        build_dataloader = staticmethod(MMRunner.build_dataloader)

    Runner.model = model
    monitor = hook.evaluate(Runner)
    row = json.loads(open(tmp_path / 'knn_monitor.json').read())
    assert row['knn_top1'] == monitor[20]

    tool = knn_eval.main([
        PIRL_DEMO, pirl_checkpoint, '--data-root', shapes_root, '--img-size',
        '64', '--batch-size', '7', '--k', *map(str, ks)
    ])
    assert tool['num_train'] == 60 and tool['num_query'] == 20
    assert {int(k): v for k, v in tool['knn_top1'].items()} == monitor

    _, cfg = demo.run_config(PIRL_DEMO, shapes_root, str(tmp_path / 'demo'),
                             None, 1)
    assert view_size(cfg) == 64
    bar = demo.final_eval(cfg, pirl_checkpoint)
    assert bar['knn_top1'] == monitor[20]
    assert 0 <= bar['linear_top1'] <= 100


class _Identity(torch.nn.Module):
    """A 'backbone' returning its input, so features are known."""

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return (x, )


def _gather_worker(rank, world_size, port, out_dir):
    import torch.distributed as tdist
    from mmengine.dataset import DefaultSampler, pseudo_collate
    from mmpretrain.models.utils import ClsDataPreprocessor
    from mmpretrain.structures import DataSample
    from torch.utils.data import DataLoader

    from pirl_plugin.evaluation import extract_dataloader_features
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    tdist.init_process_group('gloo', rank=rank, world_size=world_size)
    dataset = [
        dict(
            inputs=torch.full((3, 4, 4), float(i)),
            data_samples=DataSample(metainfo=dict(sample_idx=i)).set_gt_label(
                i % 2)) for i in range(5)
    ]  # 5 images on 2 ranks: the sampler pads one rank with a duplicate
    loader = DataLoader(
        dataset,
        batch_size=2,
        sampler=DefaultSampler(dataset, shuffle=False),
        collate_fn=pseudo_collate)
    res = extract_dataloader_features(
        _Identity(),
        ClsDataPreprocessor(),
        loader,
        normalize=False,
        gather=True)
    torch.save(res, osp.join(out_dir, f'rank{rank}.pth'))
    tdist.barrier()
    tdist.destroy_process_group()


@pytest.mark.slow
def test_feature_extraction_gathers_shards_across_ranks(tmp_path):
    """What KNNMonitorHook relies on under DDP: every rank gets every
    image once, in dataset order."""
    import socket

    import torch.multiprocessing as mp
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    mp.spawn(_gather_worker, args=(2, port, str(tmp_path)), nprocs=2)
    for rank in range(2):
        res = torch.load(tmp_path / f'rank{rank}.pth', weights_only=False)
        assert res['sample_idx'].tolist() == [0, 1, 2, 3, 4]
        assert res['labels'].tolist() == [0, 1, 0, 1, 0]
        torch.testing.assert_close(res['feats']['res5'],
                                   torch.arange(5.).view(5, 1).expand(5, 3))


# ---------------------------------------------------------- end to end
def demo_options(data_root, extra=()):
    return [
        '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
        'val_dataloader.batch_size=10', 'val_dataloader.num_workers=0',
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'param_scheduler.0.T_max=1', 'param_scheduler.0.end=1',
        'default_hooks.logger.interval=2', *extra
    ]


def read_log(work):
    return open(glob.glob(osp.join(work, '*', '*.log'))[0]).read()


@pytest.mark.slow
def test_per_layer_probe_trains_and_reports_five_accuracies(
        shapes_root, pirl_checkpoint, tmp_path):
    work = str(tmp_path / 'work')
    run_tool(['tools/train.py', PER_LAYER_DEMO, '--work-dir', work] +
             demo_options(
                 shapes_root,
                 [f'model.backbone.init_cfg.checkpoint={pirl_checkpoint}']))
    log = read_log(work)
    assert f'load backbone. in model from: {pirl_checkpoint}' in log
    for name in LAYERS:
        assert f'loss_{name}' in log
        assert f'layer_top1/{name}:' in log
    ckpt = torch.load(osp.join(work, 'epoch_1.pth'), map_location='cpu')
    state = ckpt['state_dict']
    pirl = torch.load(pirl_checkpoint, map_location='cpu')['state_dict']
    torch.testing.assert_close(state['backbone.conv1.weight'],
                               pirl['backbone.conv1.weight'])  # frozen


@pytest.mark.slow
def test_semi_supervised_subset_and_finetune(shapes_root, pirl_checkpoint,
                                             tmp_path):
    ann = str(tmp_path / 'train_subset.txt')
    run_tool([
        'tools/dataset_converters/make_semi_supervised_subset.py',
        '--image-root',
        osp.join(shapes_root, 'train'), '--per-class', '2', '--out', ann
    ])
    assert len(open(ann).read().splitlines()) == 20
    work = str(tmp_path / 'work')
    run_tool(['tools/train.py', SEMISUP_DEMO, '--work-dir', work] +
             demo_options(shapes_root, [
                 f'model.backbone.init_cfg.checkpoint={pirl_checkpoint}',
                 f'train_dataloader.dataset.ann_file={ann}',
                 'train_dataloader.batch_size=4'
             ]))
    log = read_log(work)
    assert 'Epoch(train) [1][4/5]' in log  # 20 images / batch 4
    assert 'accuracy/top1:' in log and 'accuracy/top5:' in log
    state = torch.load(
        osp.join(work, 'epoch_1.pth'), map_location='cpu')['state_dict']
    pirl = torch.load(pirl_checkpoint, map_location='cpu')['state_dict']
    assert not torch.equal(state['backbone.conv1.weight'],
                           pirl['backbone.conv1.weight'])  # fine-tuned


@pytest.mark.slow
def test_knn_tool_is_100_on_separable_images(colour_root, pirl_checkpoint,
                                             tmp_path):
    out = str(tmp_path / 'knn.json')
    proc = run_tool([
        'tools/knn_eval.py', PER_LAYER_DEMO, pirl_checkpoint, '--k', '1', '5',
        '--num-workers', '0', '--out', out, '--cfg-options',
        f'train_dataloader.dataset.data_root={colour_root}',
        f'val_dataloader.dataset.data_root={colour_root}'
    ])
    result = json.load(open(out))
    assert result['num_train'] == 18 and result['num_query'] == 9
    assert result['knn_top1'] == {'1': 100.0, '5': 100.0}
    assert 'top-1' in proc.stdout


def make_fake_voc(root, rng):
    """A VOC2007 folder: 3 classes of solid colours, 1 object per image,
    plus difficult objects."""
    classes = {'aeroplane': 'red', 'bicycle': 'green', 'bird': 'blue'}
    for sub in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
        os.makedirs(osp.join(root, sub))
    for split, n in (('trainval', 8), ('test', 4)):
        ids = []
        for cls, colour in classes.items():
            for i in range(n):
                img_id = f'{split}_{cls}_{i}'
                ids.append(img_id)
                cv2.imwrite(
                    osp.join(root, 'JPEGImages', img_id + '.jpg'),
                    colour_image(colour, rng))
                # every third image also holds a difficult object of the
                # next class: it is ignored for that class
                extra = ''
                if i % 3 == 0:
                    other = list(classes)[(list(classes).index(cls) + 1) % 3]
                    extra = (f'<object><name>{other}</name>'
                             '<difficult>1</difficult></object>')
                with open(osp.join(root, 'Annotations', img_id + '.xml'),
                          'w') as f:
                    f.write(f'<annotation><object><name>{cls}</name>'
                            f'<difficult>0</difficult></object>{extra}'
                            '</annotation>')
        with open(osp.join(root, 'ImageSets', 'Main', f'{split}.txt'),
                  'w') as f:
            f.write('\n'.join(ids) + '\n')


@pytest.mark.slow
def test_voc07_svm_tool_caches_and_scores(pirl_checkpoint, tmp_path):
    voc = str(tmp_path / 'VOC2007')
    make_fake_voc(voc, np.random.default_rng(0))
    args = [
        'tools/voc07_svm.py', PIRL_DEMO, pirl_checkpoint, '--data-root', voc,
        '--cache-dir',
        str(tmp_path / 'cache'), '--costs', '0.1', '1', '--num-workers', '0',
        '--out',
        str(tmp_path / 'svm.json')
    ]
    proc = run_tool(args)
    assert 'cached to' in proc.stdout and 'mAP' in proc.stdout
    result = json.load(open(tmp_path / 'svm.json'))
    assert result['mAP'] == pytest.approx(100.0)
    assert result['feat_dim'] == 512 and result['num_train'] == 24
    assert sorted(k for k, v in result['ap'].items()
                  if v is not None) == ['aeroplane', 'bicycle', 'bird']
    assert len(glob.glob(str(tmp_path / 'cache' / '*.npz'))) == 2
    cached = np.load(glob.glob(str(tmp_path / 'cache' / '*trainval*'))[0])
    assert (cached['targets'] == 0).sum() == 9  # difficult-only: ignored

    proc = run_tool(args)  # the second run reads the cache
    assert proc.stdout.count('loaded cached features') == 2
    assert json.load(open(tmp_path / 'svm.json'))['mAP'] == result['mAP']


@pytest.mark.slow
def test_knn_monitor_hook_logs_during_pretraining(shapes_root, tmp_path):
    cfg = Config.fromfile(KNN_MONITOR)
    idx = [h['type'] for h in cfg.custom_hooks].index('KNNMonitorHook')
    hook = f'custom_hooks.{idx}'
    work = str(tmp_path / 'work')
    run_tool([
        'tools/train.py', KNN_MONITOR, '--work-dir', work, '--cfg-options',
        f'train_dataloader.dataset.data_root={shapes_root}/train',
        'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
        'model.head.num_negatives=16', 'train_cfg.max_epochs=1',
        'param_scheduler.0.T_max=1', 'param_scheduler.0.end=1',
        'default_hooks.logger.interval=2', f'{hook}.interval=1',
        f'{hook}.train_dataloader.dataset.data_root={shapes_root}',
        f'{hook}.val_dataloader.dataset.data_root={shapes_root}'
    ])
    log = read_log(work)
    assert 'KNNMonitorHook (epoch 1): knn_top1:' in log
    assert '60 train / 20 val images' in log
    value = float(log.split('knn_top1: ')[1].split()[0])
    assert 0 <= value <= 100
    rows = [
        json.loads(line) for line in open(
            glob.glob(osp.join(work, '*', 'knn_monitor.json'))[0])
    ]
    assert len(rows) == 1 and rows[0]['epoch'] == 1
    assert rows[0]['knn_top1'] == pytest.approx(value, abs=0.01)
