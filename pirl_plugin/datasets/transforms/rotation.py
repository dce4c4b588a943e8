"""PIRL view transforms with image rotation as the pretext transformation."""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import RandomResizedCrop
from mmpretrain.registry import TRANSFORMS

from ...utils.config_errors import ConfigValueError, check_size, is_number
from .image_view import AugCfg, _as_color, _check_scale, _ImageViewMixin
from .pirl_transforms import PIRLJigsawTransform
from .view_augmentation import ViewAugmentation


def check_angles(angles: Sequence[int], name: str = 'angles') -> tuple:
    """Validate a set of rotation angles (distinct multiples of 90)."""
    ok = isinstance(angles,
                    (tuple, list)) and all(is_number(a) for a in angles)
    angles = tuple(int(a) for a in angles) if ok else angles
    if not ok or not angles or len(set(angles)) != len(angles) or any(
            a not in (0, 90, 180, 270) for a in angles):
        raise ConfigValueError(
            f'{name} must be distinct values among (0, 90, 180, 270), got '
            f'{angles}', name)
    return angles


def rotate_image(img: np.ndarray, angle: int) -> np.ndarray:
    """Rotate an ``H x W x C`` image counter-clockwise by ``angle`` (a
    multiple of 90) degrees; the same convention as ``torch.rot90`` on the
    last two dimensions of ``N x C x H x W``."""
    return np.ascontiguousarray(np.rot90(img, k=angle // 90, axes=(0, 1)))


class _RotatedViewMixin:
    """The rotated view I^t: its own RandomResizedCrop, flip and colour
    jitter, then a rotation by one of ``angles`` drawn uniformly."""

    def _init_rotated_view(self, rot_size: int, rot_crop_scale, rot_flip_prob,
                           rot_jitter: AugCfg, angles) -> None:
        check_size(type(self).__name__, 'rot_size', rot_size)
        if not (is_number(rot_flip_prob) and 0.0 <= rot_flip_prob <= 1.0):
            raise ConfigValueError(
                f'rot_flip_prob must be in [0, 1], got {rot_flip_prob!r}',
                'rot_flip_prob')
        self.rot_size = rot_size
        self.rot_crop = RandomResizedCrop(
            rot_size,
            crop_ratio_range=_check_scale(rot_crop_scale, 'rot_crop_scale'))
        self.rot_flip_prob = rot_flip_prob
        # the rotated view is augmented like the image view (its recipe's
        # 'image' half); its flip is rot_flip_prob
        self.rot_jitter = ViewAugmentation.build(rot_jitter, 'image',
                                                 self.recipe, 'rot_jitter')
        if self.rot_jitter.flip_prob:
            raise ConfigValueError(
                'set the rotated view\'s flip with rot_flip_prob, not with '
                'flip_prob in rot_jitter', 'rot_jitter')
        self.angles = check_angles(angles)

    def _rotated_view(self, img: np.ndarray):
        view, _ = self._crop_resize(img, self.rot_crop, self.rot_size,
                                    self.interp)
        if np.random.rand() < self.rot_flip_prob:
            view = view[:, ::-1]
        view = self.rot_jitter(
            np.ascontiguousarray(view)[None], self.channel_order)[0]
        label = int(np.random.randint(len(self.angles)))
        return rotate_image(view, self.angles[label]), label


@TRANSFORMS.register_module()
class PIRLRotationTransform(BaseTransform, _ImageViewMixin, _RotatedViewMixin):
    """PIRL views with rotation as the transformation t.

    Output ``results['img']`` is ``[image view, rotated view]``: the image
    view I exactly as in :class:`PIRLJigsawTransform`, and I^t, an
    independent RandomResizedCrop (+ flip + colour jitter) of the same image
    rotated counter-clockwise by an angle drawn uniformly from ``angles``.
    Added keys: ``rotation_angle`` and ``rotation_label`` (its index in
    ``angles``).

    Args:
        img_size (int): image view size. Defaults to 224.
        img_crop_scale (tuple): area range of the image view crop.
            Defaults to (0.08, 1.0).
        img_flip_prob (float): horizontal flip probability of the image
            view. Defaults to 0.5.
        img_jitter (None | str | dict): the image view's photometric
            augmentation, as in :class:`PIRLJigsawTransform`. Defaults to
            ``recipe``'s.
        rot_size (int): rotated view size. Defaults to 224.
        rot_crop_scale (tuple): area range of the rotated view's crop.
            Defaults to (0.08, 1.0).
        rot_flip_prob (float): flip probability of the rotated view.
            Defaults to 0.5.
        rot_jitter (None | str | dict): the rotated view's augmentation,
            as ``img_jitter``. Defaults to ``recipe``'s.
        angles (sequence[int]): the rotations t may apply, distinct values
            among 0, 90, 180, 270. Defaults to all four.
        interpolation (str): resize interpolation, as
            :class:`PIRLJigsawTransform`'s (``'pillow'``: Pillow's
            antialiased bilinear, within one level). Defaults to 'bilinear'.
        channel_order (str): of the input image, ``'bgr'`` (default) or
            ``'rgb'``.
        recipe (str): the augmentation recipe (see
            :class:`PIRLJigsawTransform`). Defaults to 'vissl_pirl'.
    """

    def __init__(self,
                 img_size: int = 224,
                 img_crop_scale: Sequence[float] = (0.08, 1.0),
                 img_flip_prob: float = 0.5,
                 img_jitter: AugCfg = dict(),
                 rot_size: int = 224,
                 rot_crop_scale: Sequence[float] = (0.08, 1.0),
                 rot_flip_prob: float = 0.5,
                 rot_jitter: AugCfg = dict(),
                 angles: Sequence[int] = (0, 90, 180, 270),
                 interpolation: str = 'bilinear',
                 channel_order: str = 'bgr',
                 recipe: str = 'vissl_pirl') -> None:
        self._init_image_view(img_size, img_crop_scale, img_flip_prob,
                              img_jitter, interpolation, recipe, channel_order)
        self._init_rotated_view(rot_size, rot_crop_scale, rot_flip_prob,
                                rot_jitter, angles)

    def transform(self, results: dict) -> dict:
        img = _as_color(results['img'])
        view = self._image_view(img)
        rotated, label = self._rotated_view(img)
        results['img'] = [view, rotated]
        results['img_shape'] = view.shape[:2]
        results['rotation_label'] = label
        results['rotation_angle'] = self.angles[label]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(img_size={self.img_size}, '
                f'rot_size={self.rot_size}, angles={self.angles}, '
                f'img_jitter=({self.img_jitter}), '
                f'rot_jitter=({self.rot_jitter}))')


@TRANSFORMS.register_module()
class PIRLJigsawRotationTransform(PIRLJigsawTransform, _RotatedViewMixin):
    """PIRL views for jigsaw and rotation together (the paper's Table 5).

    Output ``results['img']`` is ``[image view] + K jigsaw patches +
    [rotated view]``: :class:`PIRLJigsawTransform`'s views followed by
    :class:`PIRLRotationTransform`'s rotated view, all drawn independently
    from the same image.

    Args:
        rot_size (int): rotated view size. Defaults to 224.
        rot_crop_scale (tuple): area range of the rotated view's crop.
            Defaults to (0.08, 1.0).
        rot_flip_prob (float): flip probability of the rotated view.
            Defaults to 0.5.
        rot_jitter (None | str | dict): its augmentation, as
            ``img_jitter``. Defaults to ``recipe``'s.
        angles (sequence[int]): the rotations. Defaults to (0, 90, 180, 270).
        **kwargs: the arguments of :class:`PIRLJigsawTransform`.
    """

    def __init__(self,
                 rot_size: int = 224,
                 rot_crop_scale: Sequence[float] = (0.08, 1.0),
                 rot_flip_prob: float = 0.5,
                 rot_jitter: AugCfg = dict(),
                 angles: Sequence[int] = (0, 90, 180, 270),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._init_rotated_view(rot_size, rot_crop_scale, rot_flip_prob,
                                rot_jitter, angles)

    def transform(self, results: dict) -> dict:
        img = _as_color(results['img'])
        results = super().transform(results)
        rotated, label = self._rotated_view(img)
        results['img'] = results['img'] + [rotated]
        results['rotation_label'] = label
        results['rotation_angle'] = self.angles[label]
        return results

    def __repr__(self) -> str:
        return (super().__repr__()[:-1] + f', rot_size={self.rot_size}, '
                f'angles={self.angles})')
