"""Runtime fixes: MMEngine checkpoints on torch >= 2.6, colour jitter under
numpy 2."""
import os

import numpy as np
import pytest
import torch
from conftest import run_tool

import pirl_plugin  # noqa: F401
from pirl_plugin.datasets.transforms import (PIRLColorJitter, ViewAugmentation,
                                             augment_views)


def color_jitter_batch(imgs, channel_order='bgr', **kw):
    """Jitter with the factors given, identity for the others."""
    identity = dict(
        brightness=(1.0, 1.0),
        contrast=(1.0, 1.0),
        saturation=(1.0, 1.0),
        hue=(0.0, 0.0))
    return augment_views(imgs, ViewAugmentation(**{
        **identity,
        **kw
    }), channel_order)


_SAVE_CKPT = (
    'import sys, numpy as np, torch\n'
    'from mmengine.logging import MessageHub\n'
    "hub = MessageHub.get_instance('ckpt_test')\n"
    "hub.update_scalar('train/loss', np.float64(1.5))\n"
    "hub.update_scalar('train/lr', 0.1)\n"
    "hub.update_info('iter', 3)\n"
    "ckpt = dict(meta=dict(epoch=1, iter=3, seed=np.int64(0),\n"
    "                      dataset_meta=dict(classes=np.array(['a', 'b']))),\n"
    "            state_dict={'w': torch.ones(2)},\n"
    "            message_hub=hub.state_dict())\n"
    'torch.save(ckpt, sys.argv[1])\n')


@pytest.fixture(scope='module')
def mmengine_ckpt(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('ckpt') / 'ckpt.pth')
    run_tool(['-c', _SAVE_CKPT, path])
    return path


def test_plain_torch_load_refuses_mmengine_checkpoint(mmengine_ckpt):
    # Without the plugin (fresh process), torch's weights_only default
    # rejects the message hub: this is the bug the fix exists for.
    code = 'import sys, torch\ntorch.load(sys.argv[1])\n'
    proc = run_tool(['-c', code, mmengine_ckpt], check=False)
    assert proc.returncode != 0
    assert 'Weights only load failed' in proc.stderr
    assert 'Unsupported global' in proc.stderr


def test_checkpoint_loads_with_weights_only_default(mmengine_ckpt):
    ckpt = torch.load(mmengine_ckpt)  # weights_only left at its default
    assert ckpt['meta']['iter'] == 3
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('ckpt_test_load')
    hub.load_state_dict(ckpt['message_hub'])
    assert hub.get_scalar('train/loss').current() == 1.5


def test_arbitrary_pickled_code_still_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    code = (
        'import os, sys, torch\n'
        'class Evil:\n'
        '    def __reduce__(self):\n'
        '        return (os.system, ("touch " + sys.argv[1] + ".pwned",))\n'
        'torch.save({"x": Evil()}, sys.argv[1])\n')
    run_tool(['-c', code, path])
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path)
    assert not os.path.exists(path + '.pwned')


def test_getattr_restricted_to_history_buffer_statistics(tmp_path):
    path = str(tmp_path / 'getattr.pth')
    code = (
        'import sys, torch\n'
        'from mmengine.logging import HistoryBuffer\n'
        'torch.save({"f": HistoryBuffer.register_statistics}, sys.argv[1])\n')
    run_tool(['-c', code, path])
    with pytest.raises(Exception, match='only the statistics methods'):
        torch.load(path)


def test_mmpretrain_colorjitter_hue_overflows_under_numpy2():
    # The upstream transform this plugin replaces: it raises OverflowError
    # for a large share of hue draws. If this test starts failing, the
    # upstream bug is fixed and PIRLColorJitter could be dropped.
    from mmpretrain.datasets.transforms import ColorJitter
    t = ColorJitter(hue=0.5)
    img = np.random.default_rng(0).integers(0, 256, (8, 8, 3), np.uint8)
    errors = 0
    np.random.seed(0)
    for _ in range(40):
        try:
            t(dict(img=img.copy()))
        except OverflowError:
            errors += 1
    assert errors > 0


def test_pirl_colorjitter_never_overflows():
    t = PIRLColorJitter(
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.5,
        prob=1.0,
        gray_prob=0.2)
    img = np.random.default_rng(0).integers(0, 256, (8, 8, 3), np.uint8)
    np.random.seed(0)
    for _ in range(200):
        out = t(dict(img=img.copy()))['img']
        assert out.dtype == np.uint8 and out.shape == img.shape


def test_jitter_identity_and_brightness():
    img = np.random.default_rng(1).integers(0, 256, (3, 5, 5, 3), np.uint8)
    out = color_jitter_batch(img, prob=1.0)
    np.testing.assert_array_equal(out, img)
    out = color_jitter_batch(img, brightness=(0.5, 0.5), prob=1.0)
    np.testing.assert_allclose(out, np.round(img / 2), atol=1)


def test_jitter_grayscale_uses_luma_in_bgr_order():
    bgr = np.zeros((1, 2, 2, 3), np.uint8)
    bgr[..., 2] = 200  # pure red in BGR
    out = color_jitter_batch(bgr, prob=0.0, gray_prob=1.0, channel_order='bgr')
    assert np.all(out == round(0.299 * 200))


def test_jitter_is_independent_per_image():
    img = np.full((9, 4, 4, 3), 128, np.uint8)
    np.random.seed(0)
    out = color_jitter_batch(img, brightness=(0.5, 1.5), prob=1.0)
    assert len({int(o[0, 0, 0]) for o in out}) > 5


def test_hue_shift_rotates_the_colour_wheel():
    bgr = np.zeros((1, 4, 4, 3), np.uint8)
    bgr[..., 2] = 255  # pure red
    # +1/3 of the wheel: red -> green; -1/3: red -> blue
    for shift, channel in ((1 / 3, 1), (-1 / 3, 0)):
        out = color_jitter_batch(bgr, hue=(shift, shift), prob=1.0)
        assert out[0, 0, 0, channel] >= 250, out[0, 0, 0]
        assert out[0, 0, 0].sum() - out[0, 0, 0, channel] <= 12, out[0, 0, 0]
    np.testing.assert_array_equal(
        color_jitter_batch(bgr, hue=(0.5, 0.5), prob=1.0)[..., 2], 0)


def test_saturation_zero_is_grey_and_contrast_zero_is_mean():
    img = np.random.default_rng(2).integers(0, 256, (1, 6, 6, 3), np.uint8)
    grey = color_jitter_batch(img, saturation=(0.0, 0.0), prob=1.0)
    assert (grey[..., 0] == grey[..., 1]).all()
    assert (grey[..., 1] == grey[..., 2]).all()
    flat = color_jitter_batch(img, contrast=(0.0, 0.0), prob=1.0)
    luma = (img[..., 2] * 0.299 + img[..., 1] * 0.587 +
            img[..., 0] * 0.114).mean()
    assert np.abs(flat.astype(float) - luma).max() <= 1.0


def test_bad_jitter_settings_are_refused():
    with pytest.raises(ValueError, match='hue range must lie in'):
        PIRLColorJitter(hue=0.7)
    with pytest.raises(ValueError, match='prob must be in'):
        PIRLColorJitter(prob=1.5)
    with pytest.raises(ValueError, match='brightness must be >= 0'):
        PIRLColorJitter(brightness=-1)
