"""A checkpoint written by the plugin before its hooks were split
(``MemoryBankHook`` doing every bank job, ``tests/data/pirl_tiny_epoch_1.pth``)
still resumes, with the current hooks and with a config that still lists
the deprecated ``MemoryBankHook``.

The fixture was written by ``python tests/test_old_checkpoint.py OUT`` run
from that version's tree (commit b7f395b): the shapes demo config with an
4-channel ResNet-18, 8 images of 40 x 48 pixels, 2 iterations (epoch 1).
"""
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch

import pirl_plugin  # noqa: F401  allowlists MMEngine checkpoint classes

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
FIXTURE = osp.join(REPO, 'tests', 'data', 'pirl_tiny_epoch_1.pth')
DEMO = osp.join(REPO, 'configs', 'pirl',
                'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')
NUM_IMAGES = 8


def make_images(folder: str) -> None:
    """The fixture's 8 images (seeded: the same files every time)."""
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(NUM_IMAGES):
        img = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(img).save(osp.join(folder, f'img_{i:02d}.jpg'))


def options(data_root: str, epochs: int) -> list:
    """The fixture's settings (``epochs`` of 2 iterations each)."""
    return [
        '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
        'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
        'train_dataloader.dataset.pipeline.1.img_size=32',
        'train_dataloader.dataset.pipeline.1.jigsaw_crop_size=48',
        'train_dataloader.dataset.pipeline.1.patch_size=16',
        'model.backbone.stem_channels=4', 'model.backbone.base_channels=4',
        'model.neck.in_channels=32', 'model.transform_neck.in_channels=32',
        'model.head.num_negatives=4', f'train_cfg.max_epochs={epochs}',
        f'param_scheduler.0.T_max={epochs}', f'param_scheduler.0.end={epochs}',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1'
    ]


OLD_HOOKS = f"""
_base_ = [{DEMO!r}]
# a config written for the version of the fixture
custom_hooks = [dict(type='MemoryBankHook'), dict(type='RNGStateHook'),
                dict(type='SkippedImagesHook')]
"""


@pytest.mark.slow
@pytest.mark.parametrize('hooks', ['current', 'deprecated'])
def test_checkpoint_of_the_previous_version_resumes(tmp_path, hooks):
    from conftest import run_tool
    data, work = str(tmp_path / 'data'), str(tmp_path / 'work')
    make_images(data)
    cfg = DEMO
    if hooks == 'deprecated':
        cfg = str(tmp_path / 'old_hooks.py')
        with open(cfg, 'w') as f:
            f.write(OLD_HOOKS)
    proc = run_tool(
        ['tools/train.py', cfg, '--work-dir', work, '--resume', FIXTURE] +
        options(data, epochs=2),
        env={'OMP_NUM_THREADS': '1'})
    assert ('MemoryBankHook is deprecated' in proc.stderr) == (
        hooks == 'deprecated')
    old = torch.load(FIXTURE, map_location='cpu')
    new = torch.load(osp.join(work, 'epoch_2.pth'), map_location='cpu')
    assert old['meta']['iter'] == 2 and old['meta']['epoch'] == 1
    assert new['meta']['iter'] == 4 and new['meta']['epoch'] == 2
    key = 'memory_bank.bank'
    assert new['state_dict'][key].shape == old['state_dict'][key].shape == (
        NUM_IMAGES, 128)
    # iterations 3 and 4 rewrote the 8 entries of the resumed bank
    assert not torch.equal(new['state_dict'][key], old['state_dict'][key])
    assert int(new['state_dict']['memory_bank.num_updates']) == 4
    log = open(
        next(
            osp.join(root, f) for root, _, files in os.walk(work)
            for f in files if f.endswith('.log'))).read()
    assert 'resumed epoch: 1, iter: 2' in log


if __name__ == '__main__':
    # python tests/test_old_checkpoint.py OUT.pth, from the tree whose
    # checkpoint is wanted (run from that tree's root)
    import shutil
    import subprocess
    import tempfile
    tmp = tempfile.mkdtemp()
    make_images(osp.join(tmp, 'data'))
    subprocess.run(
        [
            sys.executable, 'tools/train.py', DEMO, '--work-dir',
            osp.join(tmp, 'work')
        ] + options(osp.join(tmp, 'data'), epochs=1),
        check=True)
    shutil.copy(osp.join(tmp, 'work', 'epoch_1.pth'), sys.argv[1])
