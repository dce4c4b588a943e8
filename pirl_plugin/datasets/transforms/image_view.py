"""The image view I of PIRL's view transforms (random resized crop, flip,
colour jitter) and the image helpers the transforms share."""
from typing import Sequence, Tuple, Union

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmpretrain.datasets.transforms import RandomResizedCrop

from ...utils.config_errors import (ConfigValueError, check_choice,
                                    check_number, check_size, is_number)
from .view_augmentation import RECIPES, ViewAugmentation

# A view's augmentation: a recipe name, overrides of the transform's recipe
# (a dict of ViewAugmentation arguments), or None for none.
AugCfg = Union[None, str, dict]

_INTERP = {
    'nearest': cv2.INTER_NEAREST,
    'bilinear': cv2.INTER_LINEAR,
    'bicubic': cv2.INTER_CUBIC,
    'area': cv2.INTER_AREA,
    # Pillow's antialiased bilinear resize (with torch), not an OpenCV flag.
    'pillow': -1,
}


def _resize(img: np.ndarray, size: int, interp: int) -> np.ndarray:
    """Resize an ``H x W x C`` uint8 image to ``size x size``: with OpenCV,
    or, for ``interp == _INTERP['pillow']``, with the antialiased bilinear
    filter of Pillow's ``Image.resize(..., BILINEAR)`` (the call
    torchvision's ``RandomResizedCrop`` makes on PIL images), computed by
    torch's uint8 ``interpolate(antialias=True)``, a reimplementation of
    Pillow's filter: at most one level from Pillow's output."""
    if interp != _INTERP['pillow']:
        return cv2.resize(img, (size, size), interpolation=interp)
    chw = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)
    out = F.interpolate(
        chw[None], (size, size),
        mode='bilinear',
        align_corners=False,
        antialias=True)
    return out[0].permute(1, 2, 0).contiguous().numpy()


def _as_color(img: np.ndarray) -> np.ndarray:
    """Grey -> 3 channels, drop alpha; refuse anything else."""
    if img.ndim == 2:
        return np.repeat(img[..., None], 3, axis=2)
    if img.ndim == 3 and img.shape[2] == 1:
        return np.repeat(img, 3, axis=2)
    if img.ndim == 3 and img.shape[2] == 4:
        return img[..., :3]
    if img.ndim == 3 and img.shape[2] == 3:
        return img
    raise ValueError(f'expected an H x W x 3 image, got shape {img.shape}')


def _check_scale(scale: Sequence[float], name: str) -> Tuple[float, float]:
    pair = isinstance(scale, (tuple, list)) and len(scale) == 2 and all(
        is_number(v) for v in scale)
    if not (pair and 0 < scale[0] <= scale[1] <= 1):
        shown = tuple(scale) if isinstance(scale, (tuple, list)) else scale
        raise ConfigValueError(
            f'{name} must satisfy 0 < min <= max <= 1, got {shown!r}', name)
    return float(scale[0]), float(scale[1])


class _ImageViewMixin:
    """The image view I of PIRL: RandomResizedCrop, flip, colour jitter and
    random greyscale."""

    def _init_image_view(self, img_size: int, img_crop_scale, img_flip_prob,
                         img_jitter: AugCfg, interpolation: str, recipe: str,
                         channel_order: str) -> None:
        """Check and set the image view's settings and the input's channel
        order (shared by every view of the transform)."""
        owner = type(self).__name__
        if channel_order not in ('bgr', 'rgb'):
            raise ConfigValueError(
                "channel_order must be 'bgr' or 'rgb', got "
                f'{channel_order!r}', 'channel_order')
        self.channel_order = channel_order
        check_size(owner, 'img_size', img_size)
        check_number(owner, 'img_flip_prob', img_flip_prob)
        if not 0.0 <= img_flip_prob <= 1.0:
            raise ConfigValueError(
                f'img_flip_prob must be in [0, 1], got {img_flip_prob}',
                'img_flip_prob')
        check_choice(owner, 'interpolation', interpolation, sorted(_INTERP))
        self.img_size = img_size
        self.img_crop = RandomResizedCrop(
            img_size,
            crop_ratio_range=_check_scale(img_crop_scale, 'img_crop_scale'))
        self.img_flip_prob = img_flip_prob
        check_choice(owner, 'recipe', recipe, sorted(RECIPES))
        self.recipe = recipe
        self.img_jitter = ViewAugmentation.build(img_jitter, 'image', recipe,
                                                 'img_jitter')
        if self.img_jitter.flip_prob:
            raise ConfigValueError(
                'set the image view\'s flip with img_flip_prob, not with '
                'flip_prob in img_jitter', 'img_jitter')
        self.interp = _INTERP[interpolation]

    @staticmethod
    def _crop_resize(
            img: np.ndarray, crop: RandomResizedCrop, size: int,
            interp: int) -> Tuple[np.ndarray, Tuple[int, int, int, int]]:
        y, x, h, w = crop.rand_crop_params(img)
        out = _resize(img[y:y + h, x:x + w], size, interp)
        return out, (x, y, x + w, y + h)

    def _image_view(self, img: np.ndarray) -> np.ndarray:
        view, _ = self._crop_resize(img, self.img_crop, self.img_size,
                                    self.interp)
        if np.random.rand() < self.img_flip_prob:
            view = view[:, ::-1]
        return self.img_jitter(view[None], self.channel_order)[0]
