"""PIRLJigsawTransform geometry, permutations and errors."""
import numpy as np
import pytest

from pirl_plugin.datasets.transforms import PIRLJigsawTransform
from pirl_plugin.utils import generate_permutations, min_hamming_distance

NO_JITTER = 'none'


def _identity_jigsaw(**kw):
    # A 255x255 input cropped at scale 1 and aspect ratio 1 is the crop
    # itself, so patches can be compared with the input pixels.
    t = PIRLJigsawTransform(
        jigsaw_crop_scale=(1.0, 1.0),
        img_jitter=NO_JITTER,
        patch_jitter=NO_JITTER,
        **kw)
    t.jigsaw_crop.aspect_ratio_range = (1.0, 1.0)
    return t


def test_output_views_and_sizes(rng):
    t = PIRLJigsawTransform()
    img = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    out = t(dict(img=img))
    views = out['img']
    assert len(views) == 10
    assert views[0].shape == (224, 224, 3)
    assert all(v.shape == (64, 64, 3) for v in views[1:])
    assert all(v.dtype == np.uint8 for v in views)
    assert sorted(out['jigsaw_perm'].tolist()) == list(range(9))


def test_patches_inside_their_cells_in_permuted_order(rng):
    t = _identity_jigsaw()
    img = rng.integers(0, 256, (255, 255, 3), dtype=np.uint8)
    for seed in range(20):
        np.random.seed(seed)
        out = t(dict(img=img.copy()))
        perm, boxes = out['jigsaw_perm'], out['jigsaw_boxes']
        for slot, (cell, box) in enumerate(zip(perm, boxes)):
            x1, y1, x2, y2 = box
            assert x2 - x1 == 64 and y2 - y1 == 64
            row, col = divmod(int(cell), 3)
            assert col * 85 <= x1 and x2 <= (col + 1) * 85
            assert row * 85 <= y1 and y2 <= (row + 1) * 85
            # the slot's pixels are exactly the box of the crop
            np.testing.assert_array_equal(out['img'][1 + slot], img[y1:y2,
                                                                    x1:x2])


def test_offsets_vary_inside_cells(rng):
    t = _identity_jigsaw()
    img = rng.integers(0, 256, (255, 255, 3), dtype=np.uint8)
    np.random.seed(0)
    xs = {int(t(dict(img=img))['jigsaw_boxes'][0, 0]) % 85 for _ in range(30)}
    assert len(xs) > 5


def test_each_patch_jittered_independently():
    t = PIRLJigsawTransform(
        img_jitter=NO_JITTER,
        patch_jitter=dict(
            recipe='none',
            brightness=0.8,
            contrast=0,
            saturation=0,
            hue=0,
            prob=1.0))
    img = np.full((300, 300, 3), 120, np.uint8)
    np.random.seed(0)
    patches = t(dict(img=img))['img'][1:]
    assert len({int(p[0, 0, 0]) for p in patches}) > 5


def test_fixed_permutation_set_is_used_and_stable():
    t = _identity_jigsaw(permutations=10, permutation_seed=3)
    t2 = _identity_jigsaw(permutations=10, permutation_seed=3)
    np.testing.assert_array_equal(t.permutation_set, t2.permutation_set)
    assert len({tuple(p) for p in t.permutation_set.tolist()}) == 10
    img = np.zeros((255, 255, 3), np.uint8)
    np.random.seed(0)
    for _ in range(20):
        out = t(dict(img=img))
        k = out['jigsaw_perm_index']
        np.testing.assert_array_equal(out['jigsaw_perm'], t.permutation_set[k])


def test_permutation_generator_reproducible_and_hamming():
    a = generate_permutations(30, method='random', seed=1)
    np.testing.assert_array_equal(
        a, generate_permutations(30, method='random', seed=1))
    h = generate_permutations(30, method='hamming', seed=0)
    np.testing.assert_array_equal(
        h, generate_permutations(30, method='hamming', seed=0))
    assert min_hamming_distance(h) >= min_hamming_distance(a)
    assert min_hamming_distance(
        generate_permutations(10, method='hamming', seed=0)) >= 8


def test_small_and_grey_images_are_accepted():
    t = PIRLJigsawTransform()
    out = t(dict(img=np.zeros((20, 30), np.uint8)))
    assert out['img'][0].shape == (224, 224, 3)
    out = t(dict(img=np.zeros((40, 40, 4), np.uint8)))
    assert out['img'][5].shape == (64, 64, 3)


@pytest.mark.parametrize('kwargs,msg', [
    (dict(patch_size=90), r'patch_size \(90\) must be in \[1, 85\]'),
    (dict(jigsaw_crop_size=256), r'must be divisible by grid_size \(3\)'),
    (dict(jigsaw_crop_scale=(0.6, 1.2)), 'jigsaw_crop_scale must satisfy'),
    (dict(img_crop_scale=(0.5, 0.1)), 'img_crop_scale must satisfy'),
    (dict(permutations='some'), "permutations must be 'all'"),
    (dict(permutations=[[0, 1, 2]]), r'shape \(T, 9\)'),
    (dict(permutations=400000), r'must be in \[1, 362880\]'),
    (dict(grid_size=0), 'grid_size must be an integer >= 1'),
    (dict(channel_order='rgba'), "channel_order must be 'bgr' or 'rgb'"),
])
def test_inconsistent_settings_refused(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        PIRLJigsawTransform(**kwargs)
