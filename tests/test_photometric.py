"""The per-view photometric ops against Pillow on real photographs, and the
authors' recipe: what is applied to which view, independently, in which
order."""
import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from pirl_plugin.datasets.transforms import (RECIPES, PIRLJigsawTransform,
                                             ViewAugmentation, augment_views)
from pirl_plugin.datasets.transforms import photometric as ph


@pytest.fixture(scope='module')
def photos():
    """Two real RGB photographs shipped with scikit-learn (a temple and a
    flower), cut to a 160 x 200 view and a 64 x 64 patch each, plus a
    low-contrast version of the first (for autocontrast)."""
    from sklearn.datasets import load_sample_image
    out = []
    for name in ('china.jpg', 'flower.jpg'):
        img = load_sample_image(name)  # RGB uint8
        out.append(np.ascontiguousarray(img[100:260, 200:400]))
        out.append(np.ascontiguousarray(img[300:364, 100:164]))
    out.append((out[0] // 3 + 60).astype(np.uint8))
    return out


def _pil(rgb):
    return Image.fromarray(rgb)


def _diff(a, b):
    return np.abs(a.astype(int) - np.asarray(b).astype(int))


@pytest.mark.parametrize('factor', [0.6, 0.93, 1.37])
def test_brightness_equals_pillow(photos, factor):
    for rgb in photos:
        ref = ImageEnhance.Brightness(_pil(rgb)).enhance(factor)
        np.testing.assert_array_equal(ph.brightness(rgb, factor), ref)


@pytest.mark.parametrize('factor', [0.6, 1.0 / 3, 1.4])
def test_contrast_equals_pillow(photos, factor):
    for rgb in photos:
        ref = ImageEnhance.Contrast(_pil(rgb)).enhance(factor)
        d = _diff(ph.contrast(rgb, factor, 'rgb'), ref)
        # identical but where OpenCV's and Pillow's grey conversions round
        # the mean differently (then one level)
        assert d.max() <= 1 and d.mean() < 0.02


@pytest.mark.parametrize('factor', [0.0, 0.6, 1.4])
def test_saturation_matches_pillow(photos, factor):
    for rgb in photos:
        ref = ImageEnhance.Color(_pil(rgb)).enhance(factor)
        d = _diff(ph.saturation(rgb, factor, 'rgb'), ref)
        # OpenCV rounds where Pillow truncates
        assert d.max() <= 1 and d.mean() < 0.5, (d.max(), d.mean())


@pytest.mark.parametrize('shift', [-0.2, -0.05, 0.11, 0.2])
def test_hue_matches_pillow_hsv_rotation(photos, shift):
    """torchvision's adjust_hue on a PIL image, written out: rotate the
    8-bit hue channel of Pillow's HSV by int(shift * 255), wrapping."""
    for rgb in photos:
        h, s, v = _pil(rgb).convert('HSV').split()
        h = Image.fromarray(((np.asarray(h).astype(int) + int(shift * 255)) %
                             256).astype(np.uint8), 'L')
        ref = Image.merge('HSV', (h, s, v)).convert('RGB')
        d = _diff(ph.hue(rgb, shift, 'rgb'), ref)
        # OpenCV's and Pillow's HSV conversions round differently: a few
        # levels on some pixels, the same colours on average
        assert d.mean() < 1.0 and np.percentile(d, 99) <= 5, (d.mean(),
                                                              np.percentile(
                                                                  d, 99))


@pytest.mark.parametrize('bits', [4, 5, 6, 7, 8])
def test_posterize_equals_pillow(photos, bits):
    for rgb in photos:
        np.testing.assert_array_equal(
            ph.posterize(rgb, bits), ImageOps.posterize(_pil(rgb), bits))


@pytest.mark.parametrize('factor', [0.1, 0.7, 1.9])
def test_sharpness_matches_pillow(photos, factor):
    for rgb in photos:
        ref = ImageEnhance.Sharpness(_pil(rgb)).enhance(factor)
        d = _diff(ph.sharpness(rgb, factor), ref)
        assert d.max() <= 1 and d.mean() < 0.5, (d.max(), d.mean())
        # Pillow leaves the border unfiltered; so do we
        np.testing.assert_array_equal(d[0], 0)


@pytest.mark.parametrize('threshold', [0, 1, 100, 128, 255, 256])
def test_solarize_equals_pillow(photos, threshold):
    for rgb in photos:
        np.testing.assert_array_equal(
            ph.solarize(rgb, threshold),
            ImageOps.solarize(_pil(rgb), threshold))


def test_autocontrast_equals_pillow(photos):
    flat = np.full((8, 8, 3), 77, np.uint8)
    flat[..., 0] = np.arange(64).reshape(8, 8)  # one channel not flat
    for rgb in photos + [flat]:
        np.testing.assert_array_equal(
            ph.autocontrast(rgb), ImageOps.autocontrast(_pil(rgb)))


def test_grayscale_matches_pillow(photos):
    aug = ViewAugmentation(prob=0.0, gray_prob=1.0)
    for rgb in photos:
        ref = _pil(rgb).convert('L').convert('RGB')
        d = _diff(augment_views(rgb[None], aug, 'rgb')[0], ref)
        assert d.max() <= 1


def test_photometric_chain_matches_pillow(photos, monkeypatch):
    """VISSL's ImgPilRandomPhotometric, through ``augment_views`` with its
    random values pinned: posterize, sharpness, solarize, autocontrast in
    this order.

    Our sharpness differs from Pillow's by one level on some pixels
    (``test_sharpness_matches_pillow``), and which pixels depends on the
    CPU's SIMD path in OpenCV; autocontrast then stretches a one-level
    difference by up to 255 / (hi - lo). So that this test checks the chain
    (which ops, in which order, with which values) exactly on any machine,
    sharpness is Pillow's here; every other op is ours and exact."""

    def pil_sharpness(img, factor):
        return np.asarray(ImageEnhance.Sharpness(_pil(img)).enhance(factor))

    monkeypatch.setattr(ph, 'sharpness', pil_sharpness)
    aug = ViewAugmentation(
        prob=0.0,
        photometric_prob=1.0,
        posterize_bits=(5, 5),
        sharpness=(1.5, 1.5),
        solarize_threshold=(140, 140))
    for rgb in photos:
        ref = ImageOps.autocontrast(
            ImageOps.solarize(
                ImageEnhance.Sharpness(ImageOps.posterize(_pil(rgb),
                                                          5)).enhance(1.5),
                140))
        np.testing.assert_array_equal(
            augment_views(rgb[None], aug, 'rgb')[0], np.asarray(ref))


def test_bgr_and_rgb_orders_agree(photos):
    rgb = photos[0]
    for fn in (lambda x, co: ph.hue(x, 0.13, co),
               lambda x, co: ph.contrast(x, 0.5, co),
               lambda x, co: ph.saturation(x, 0.3, co)):
        np.testing.assert_array_equal(
            fn(rgb, 'rgb'),
            fn(rgb[..., ::-1].copy(), 'bgr')[..., ::-1])


# ------------------------------------------------------------- the recipe
def test_default_recipe_is_the_authors():
    """VISSL pirl_jigsaw_4node_resnet50.yaml: ColorJitter(0.4, 0.4, 0.4,
    0.2) always, ImgPilRandomPhotometric p=0.66 (posterize 4-8 bits,
    sharpness 0.1-1.9, solarize 0-256), RandomGrayscale(0.2) and
    RandomHorizontalFlip on every view (patches included)."""
    t = PIRLJigsawTransform()
    assert t.recipe == 'vissl_pirl'
    assert t.img_flip_prob == 0.5
    for aug, flip in ((t.img_jitter, 0.0), (t.patch_jitter, 0.5)):
        assert aug.brightness == (0.6, 1.4)
        assert aug.contrast == (0.6, 1.4)
        assert aug.saturation == (0.6, 1.4)
        assert aug.hue == (-0.2, 0.2)
        assert aug.prob == 1.0
        assert aug.photometric_prob == 0.66
        assert aug.posterize_bits == (4, 8)
        assert aug.sharpness == (0.1, 1.9)
        assert aug.solarize_threshold == (0, 256)
        assert aug.gray_prob == 0.2
        assert aug.flip_prob == flip


def test_overrides_and_named_recipes():
    t = PIRLJigsawTransform(
        patch_jitter=dict(hue=0.1), img_jitter='mocov2_jitter')
    assert t.patch_jitter.hue == (-0.1, 0.1)
    assert t.patch_jitter.photometric_prob == 0.66  # rest of the recipe
    assert t.img_jitter.prob == 0.8 and t.img_jitter.photometric_prob == 0
    light = PIRLJigsawTransform(recipe='mocov2_jitter')
    assert light.patch_jitter.flip_prob == 0.0
    assert light.patch_jitter.hue == (-0.1, 0.1)
    none = PIRLJigsawTransform(img_jitter=None, patch_jitter='none')
    assert none.img_jitter.prob == 0 and none.patch_jitter.flip_prob == 0
    assert set(RECIPES) >= {'vissl_pirl', 'mocov2_jitter', 'none'}


@pytest.mark.parametrize('kwargs,msg', [
    (dict(recipe='simclr'), "recipe must be one of"),
    (dict(patch_jitter='simclr'), "unknown augmentation recipe 'simclr'"),
    (dict(img_jitter=dict(flip_prob=0.5)), 'with img_flip_prob'),
    (dict(patch_jitter=dict(photometric_prob=1.5)),
     r'photometric_prob must be in \[0, 1\]'),
    (dict(patch_jitter=dict(posterize_bits=(0, 8))), 'posterize_bits must'),
    (dict(patch_jitter=dict(solarize_threshold=(0, 300))),
     'solarize_threshold must'),
    (dict(patch_jitter=dict(colour=0.3)), 'colour'),
])
def test_bad_recipe_settings_are_refused(kwargs, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        PIRLJigsawTransform(**kwargs)


def test_op_order_is_drawn_per_view(photos):
    """Brightness x1.8 and contrast x0.2 do not commute (clipping), so one
    image jittered many times with these fixed factors gives two results if
    the order is drawn per view, and one if one order is shared."""
    aug = ViewAugmentation(
        brightness=(1.8, 1.8),
        contrast=(0.2, 0.2),
        saturation=(1.0, 1.0),
        hue=(0.0, 0.0))
    views = np.repeat(photos[0][None], 24, axis=0)
    np.random.seed(0)
    out = augment_views(views, aug, 'rgb')
    assert len({o.tobytes() for o in out}) == 2


def test_each_view_gets_its_own_draws(photos):
    rgb = photos[2]  # low contrast: autocontrast always changes it
    n = 600
    views = np.repeat(rgb[None], n, axis=0)
    np.random.seed(1)
    # photometric ops alone: applied to about 66% of the views
    out = augment_views(views,
                        ViewAugmentation(prob=0.0,
                                         photometric_prob=0.66), 'rgb')
    changed = np.array([not np.array_equal(o, rgb) for o in out])
    assert abs(changed.mean() - 0.66) < 0.06
    # greyscale alone: about 20%
    out = augment_views(views, ViewAugmentation(prob=0.0, gray_prob=0.2),
                        'rgb')
    grey = np.array([(o[..., 0] == o[..., 1]).all() for o in out])
    assert abs(grey.mean() - 0.2) < 0.05
    # flip alone: about 50%, and a flip is an exact mirror
    out = augment_views(views, ViewAugmentation(prob=0.0, flip_prob=0.5),
                        'rgb')
    flipped = np.array([np.array_equal(o, rgb[:, ::-1]) for o in out])
    kept = np.array([np.array_equal(o, rgb) for o in out])
    assert (flipped | kept).all() and abs(flipped.mean() - 0.5) < 0.06
    # jitter always (prob 1): every view changed, factors differ per view
    out = augment_views(views[:50], ViewAugmentation(prob=1.0), 'rgb')
    assert len({o.tobytes() for o in out}) == 50


def test_patches_are_flipped_independently():
    t = PIRLJigsawTransform(
        jigsaw_crop_scale=(1.0, 1.0),
        img_jitter=None,
        patch_jitter=dict(recipe='none', flip_prob=0.5))
    t.jigsaw_crop.aspect_ratio_range = (1.0, 1.0)
    img = np.random.default_rng(0).integers(0, 256, (255, 255, 3), np.uint8)
    np.random.seed(0)
    flips = []
    for _ in range(20):
        out = t(dict(img=img.copy()))
        for patch, (x1, y1, x2, y2) in zip(out['img'][1:],
                                           out['jigsaw_boxes']):
            box = img[y1:y2, x1:x2]
            if np.array_equal(patch, box[:, ::-1]):
                flips.append(True)
            else:
                np.testing.assert_array_equal(patch, box)
                flips.append(False)
    assert 0.35 < np.mean(flips) < 0.65
