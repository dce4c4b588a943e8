"""The environment is real: compiled ops, the OpenMMLab stack, registries."""
import os.path as osp

import pytest
import torch
from conftest import REPO, run_tool

import pirl_plugin

COMPONENTS = {
    'MODELS': [
        'PIRL', 'PIRLJigsawNeck', 'PIRLMLPNeck', 'NCEHead', 'MemoryBank',
        'ShardedMemoryBank', 'ResNetWithStem', 'MultiLayerLinearClsHead',
        'JigsawPretext', 'JigsawPretextNeck', 'RotationPretext',
        'PIRLMultiTransform', 'MultiNCEHead'
    ],
    'HOOKS': [
        'BankUpdateHook', 'CollapseGuardHook', 'BankConsistencyHook',
        'PreflightChecksHook', 'MemoryBankHook', 'RNGStateHook',
        'KNNMonitorHook', 'SkippedImagesHook'
    ],
    'METRICS': ['MultiLayerAccuracy'],
    'TRANSFORMS': [
        'PIRLJigsawTransform', 'PIRLColorJitter', 'RobustLoadImageFromFile',
        'PIRLRotationTransform', 'PIRLJigsawRotationTransform',
        'JigsawPretextTransform'
    ],
}


def test_version():
    assert isinstance(pirl_plugin.__version__, str)
    assert pirl_plugin.__version__.count('.') == 2


def test_mmcv_compiled_ops_run_on_cpu():
    from mmcv.ops import RoIAlign, nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.],
                          [50., 50., 60., 60.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    dets, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    assert dets.shape == (2, 5)
    feat = torch.arange(16.).view(1, 1, 4, 4)
    roi = torch.tensor([[0., 0., 0., 3., 3.]])
    out = RoIAlign((1, 1), spatial_scale=1.0, sampling_ratio=2,
                   aligned=False)(feat, roi)
    # the mean of the 4x4 ramp over the box [0, 3] x [0, 3] is 7.5
    assert out.shape == (1, 1, 1, 1)
    assert abs(out.item() - 7.5) < 1e-4


def test_openmmlab_stack_imports():
    import mmcv
    import mmdet
    import mmengine
    import mmpretrain
    import mmpretrain.models  # noqa: F401
    assert mmcv.__version__ == '2.1.0'
    assert mmengine.__version__ == '0.10.7'
    assert mmpretrain.__version__ == '1.2.0'
    assert mmdet.__version__ == '3.3.0'


@pytest.mark.parametrize('registry,names', list(COMPONENTS.items()))
def test_components_registered(registry, names):
    import mmpretrain.registry as reg
    for name in names:
        assert getattr(reg, registry).get(name) is not None, name


def test_readme_lists_every_component():
    readme = open(osp.join(REPO, 'README.md')).read()
    for names in COMPONENTS.values():
        for name in names:
            assert f'`{name}`' in readme, name


def test_config_custom_imports_builds_in_fresh_process():
    # No `import pirl_plugin` here: custom_imports in the config must do it.
    code = (
        'from mmengine.config import Config\n'
        'from mmpretrain.registry import MODELS\n'
        'from mmengine.registry import init_default_scope\n'
        "cfg = Config.fromfile("
        "'configs/pirl/pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')\n"
        "assert cfg.custom_imports.imports == ['pirl_plugin']\n"
        "init_default_scope('mmpretrain')\n"
        'model = MODELS.build(cfg.model)\n'
        "print(type(model).__name__, type(model.transform_neck).__name__)\n")
    proc = run_tool(['-c', code])
    assert 'PIRL PIRLJigsawNeck' in proc.stdout
