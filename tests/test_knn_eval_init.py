"""tools/knn_eval.py without a checkpoint evaluates the untrained network at
the standard initialisation unless told otherwise, and says which."""
import importlib.util
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PIRL_DEMO = osp.join(REPO, 'configs', 'pirl',
                     'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')


def config_backbone() -> dict:
    from mmengine.config import Config
    return Config.fromfile(PIRL_DEMO).model.backbone.to_dict()


@pytest.fixture
def knn_eval():
    spec = importlib.util.spec_from_file_location(
        'tool_knn_eval_init', osp.join(REPO, 'tools', 'knn_eval.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('extra, zero_init_residual, init', [
    ([], False, 'standard'),
    (['--init', 'standard'], False, 'standard'),
    (['--init', 'zero_init'], True, 'zero_init'),
    (['--init', 'config'], 'config', 'zero_init'),
])
def test_untrained_network_is_built_with_the_asked_init(
        knn_eval, shapes_root, monkeypatch, capsys, extra, zero_init_residual,
        init):
    """The demo config sets ``zero_init_residual=True`` (MMPretrain's
    default); the tool must evaluate the standard init unless asked."""
    seen = {}

    def fake_evaluate(model_cfg, checkpoint, *loaders, **kwargs):
        seen['backbone'] = dict(model_cfg['backbone'])
        seen['checkpoint'] = checkpoint
        return dict(knn_top1={20: 50.0}, num_train=60, num_query=20)

    monkeypatch.setattr(knn_eval, 'knn_evaluate_config', fake_evaluate)
    result = knn_eval.main(
        [PIRL_DEMO, '--data-root', shapes_root, '--img-size', '64'] + extra)
    assert seen['checkpoint'] is None
    if zero_init_residual == 'config':
        zero_init_residual = config_backbone()['zero_init_residual']
        assert zero_init_residual is True
    assert seen['backbone']['zero_init_residual'] is zero_init_residual
    assert result['init'] == init
    out = capsys.readouterr().out
    assert f'of the untrained network, {knn_eval.INIT_LABELS[init]}' in out


def test_a_checkpoint_keeps_the_config_and_names_no_init(
        knn_eval, shapes_root, monkeypatch, capsys, tmp_path):
    seen = {}

    def fake_evaluate(model_cfg, checkpoint, *loaders, **kwargs):
        seen['backbone'] = dict(model_cfg['backbone'])
        return dict(knn_top1={20: 50.0}, num_train=60, num_query=20)

    monkeypatch.setattr(knn_eval, 'knn_evaluate_config', fake_evaluate)
    ckpt = str(tmp_path / 'epoch_1.pth')
    result = knn_eval.main([
        PIRL_DEMO, ckpt, '--data-root', shapes_root, '--img-size', '64',
        '--init', 'zero_init'
    ])
    assert seen['backbone'] == config_backbone()
    assert result['init'] is None
    assert f'of {ckpt}:' in capsys.readouterr().out


@pytest.mark.slow
def test_the_two_inits_give_different_features(knn_eval, shapes_root):
    """A real run of each: the zero-init network's pooled features are
    nearly alike, so its kNN accuracy differs from the standard init's."""
    args = [
        PIRL_DEMO, '--data-root', shapes_root, '--img-size', '64', '--k', '5',
        '--device', 'cpu'
    ]
    standard = knn_eval.main(args)
    zero = knn_eval.main(args + ['--init', 'zero_init'])
    assert standard['init'] == 'standard' and zero['init'] == 'zero_init'
    assert standard['knn_top1'] != zero['knn_top1']
