"""Progress bars of the long loops outside training: shown only where
someone watches, and never changing a number."""
import io

import numpy as np
import torch

from pirl_plugin.utils import progress


class Tty(io.StringIO):

    def isatty(self):
        return True


def test_progress_shown_only_on_a_terminal_without_ci(monkeypatch):
    monkeypatch.delenv('PIRL_PROGRESS', raising=False)
    monkeypatch.delenv('CI', raising=False)
    assert progress.progress_enabled(Tty())
    assert not progress.progress_enabled(io.StringIO())  # a log or a pipe
    monkeypatch.setenv('CI', 'true')
    assert not progress.progress_enabled(Tty())
    monkeypatch.setenv('CI', 'false')
    assert progress.progress_enabled(Tty())
    monkeypatch.setenv('PIRL_PROGRESS', '0')
    assert not progress.progress_enabled(Tty())
    monkeypatch.setenv('PIRL_PROGRESS', '1')
    monkeypatch.setenv('CI', '1')
    assert progress.progress_enabled(io.StringIO())
    from unittest import mock
    with mock.patch('mmengine.dist.get_rank', return_value=1):
        assert not progress.progress_enabled(Tty())  # rank 0 only


def _backbone():
    from mmpretrain.models import ResNet
    torch.manual_seed(0)
    net = ResNet(depth=18, base_channels=8)
    net.init_weights()
    return net


def test_progress_bars_do_not_change_results(monkeypatch, capfd):
    # Another test may leave MMEngine's default scope set (e.g. a Runner's
    # 'mmengine'); the evaluation code must build in MMPretrain's scope.
    from mmengine.registry import init_default_scope
    init_default_scope('mmengine')
    """kNN features, the SVM benchmark and the invariance distances give
    the same numbers with and without their bars, and the bars go to
    standard error."""
    from pirl_plugin.evaluation import extract_features
    from pirl_plugin.evaluation.invariance import backbone_distances
    from pirl_plugin.evaluation.svm import svm_benchmark
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (10, 24, 24, 3), dtype=np.uint8)
    net = _backbone()
    feats = rng.normal(size=(30, 8)).astype(np.float32)
    targets = np.where(rng.random((30, 3)) > 0.5, 1, -1)
    x = torch.from_numpy(rng.normal(size=(6, 3, 24, 24)).astype(np.float32))

    def run():
        return (extract_features(net, imgs, batch_size=4),
                svm_benchmark(
                    feats[:20],
                    targets[:20],
                    feats[20:],
                    targets[20:],
                    costs=(0.1, 1.0),
                    cv_folds=2),
                backbone_distances(net, x, 'jigsaw', batch_size=4))

    capfd.readouterr()  # the backbone's init_weights report
    monkeypatch.setenv('PIRL_PROGRESS', '0')
    quiet = run()
    out = capfd.readouterr()
    assert out.err == '' and out.out == ''
    monkeypatch.setenv('PIRL_PROGRESS', '1')
    shown = run()
    out = capfd.readouterr()
    assert out.out == ''
    # 10 images in batches of 4
    assert 'extracting features (3 batches)' in out.err
    assert '3/3' in out.err
    assert 'SVM: 3 classes x 2 costs x 2 folds' in out.err and '3/3' in out.err
    assert 'backbone distances, jigsaw (6 images)' in out.err
    assert torch.equal(quiet[0], shown[0])
    assert quiet[1] == shown[1]
    assert torch.equal(quiet[2], shown[2])


def test_dataloader_features_bar_counts_batches(monkeypatch, capfd):
    from mmengine.dataset import pseudo_collate
    from mmpretrain.models.utils import ClsDataPreprocessor
    from mmpretrain.structures import DataSample
    from torch.utils.data import DataLoader

    from pirl_plugin.evaluation import extract_dataloader_features

    class Identity(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return (x, )

    dataset = [
        dict(
            inputs=torch.full((3, 4, 4), float(i)),
            data_samples=DataSample(metainfo=dict(sample_idx=i)).set_gt_label(
                i % 2)) for i in range(5)
    ]
    loader = DataLoader(dataset, batch_size=2, collate_fn=pseudo_collate)

    def run():
        return extract_dataloader_features(
            Identity(), ClsDataPreprocessor(), loader, normalize=False)

    monkeypatch.setenv('PIRL_PROGRESS', '0')
    quiet = run()
    assert capfd.readouterr().err == ''
    monkeypatch.setenv('PIRL_PROGRESS', '1')
    shown = run()
    err = capfd.readouterr().err
    assert 'extracting features (3 batches)' in err and '3/3' in err
    assert torch.equal(quiet['feats']['res5'], shown['feats']['res5'])
    assert torch.equal(quiet['sample_idx'], shown['sample_idx'])
