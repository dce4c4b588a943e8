"""The procedural shapes dataset of the demo.

(pirl_plugin.datasets.synthetic)
"""
import json
import os
import os.path as osp

import numpy as np
import pytest

from pirl_plugin.datasets.synthetic import (CLASSES, draw_shape, load_split,
                                            make_shapes_dataset)


def test_draw_shape_is_reproducible_and_sized():
    for cls in CLASSES:
        a = draw_shape(cls, 48, np.random.default_rng(3))
        b = draw_shape(cls, 48, np.random.default_rng(3))
        assert a.shape == (48, 48, 3) and a.dtype == np.uint8
        np.testing.assert_array_equal(a, b)


def test_every_class_draws_something_on_the_background():
    # the shapes must cover a visible part of the image, whatever the class
    for cls in CLASSES:
        img = draw_shape(cls, 64, np.random.default_rng(1)).astype(float)
        lum = img.mean(2)
        border = np.median(np.concatenate([lum[0], lum[-1]]))
        far = np.abs(lum - border) > 40
        assert 0.03 < far.mean() < 0.9, (cls, far.mean())


def test_unknown_class_is_refused():
    with pytest.raises(ValueError, match="unknown class 'blob'"):
        draw_shape('blob', 32, np.random.default_rng(0))


def test_dataset_layout_marker_and_idempotence(tmp_path):
    root = str(tmp_path / 'shapes')
    counts = make_shapes_dataset(
        root, train_per_class=2, test_per_class=1, size=32, seed=5)
    assert counts == {'train': 2 * len(CLASSES), 'test': len(CLASSES)}
    for split, n in (('train', 2), ('test', 1)):
        assert sorted(os.listdir(osp.join(root, split))) == sorted(CLASSES)
        for cls in CLASSES:
            assert len(os.listdir(osp.join(root, split, cls))) == n
    with open(osp.join(root, 'dataset.json')) as f:
        spec = json.load(f)
    assert spec['seed'] == 5 and spec['size'] == 32
    # a second call with the same arguments writes nothing
    probe = osp.join(root, 'train', CLASSES[0], f'{CLASSES[0]}_00000.jpg')
    before = os.stat(probe).st_mtime_ns
    make_shapes_dataset(
        root, train_per_class=2, test_per_class=1, size=32, seed=5)
    assert os.stat(probe).st_mtime_ns == before
    # other arguments regenerate it
    make_shapes_dataset(
        root, train_per_class=2, test_per_class=1, size=40, seed=5)
    x, y, classes = load_split(root, 'test')
    assert x.shape == (len(CLASSES), 40, 40, 3)
    assert classes == sorted(CLASSES)
    assert sorted(y.tolist()) == list(range(len(CLASSES)))


def test_load_split_resizes_and_names_an_undecodable_file(tmp_path):
    root = str(tmp_path / 'shapes')
    make_shapes_dataset(root, train_per_class=1, test_per_class=1, size=32)
    x, _, _ = load_split(root, 'train', size=16)
    assert x.shape == (len(CLASSES), 16, 16, 3)
    bad = osp.join(root, 'train', CLASSES[0], 'broken.jpg')
    with open(bad, 'wb') as f:
        f.write(b'not a jpeg')
    with pytest.raises(ValueError, match='broken.jpg'):
        load_split(root, 'train')
