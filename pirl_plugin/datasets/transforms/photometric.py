"""Per-view photometric augmentation of PIRL, on uint8 images with OpenCV.

PIRL's authors (VISSL ``configs/config/pretrain/pirl/
pirl_jigsaw_4node_resnet50.yaml``) apply, to the image view and to each of
the nine jigsaw patches independently, torchvision's ``ColorJitter(0.4, 0.4,
0.4, 0.2)``, then ``ImgPilRandomPhotometric`` (posterize, sharpness,
solarize and autocontrast, in that order, together with probability 0.66:
``torchvision.transforms.RandomApply`` over the list), ``RandomGrayscale(0.2)``
and ``RandomHorizontalFlip``, all on PIL images.

Why our own implementation and not PIL/torchvision or mmpretrain's
transforms:

- mmpretrain's ``ColorJitter`` goes through mmcv 2.1.0's ``adjust_hue``,
  which overflows under numpy 2 (``OverflowError: Python integer -12 out of
  bounds for uint8``) for about half the hue draws;
- ten views per image through PIL (or ten calls of each mmpretrain
  transform) would make PIRL's data loader slower than MoCo v2's
  (``tools/benchmarks/data_pipeline.py``). Here every random draw is
  vectorised over the views and each op is one uint8 lookup table or one
  OpenCV call per view.

Each op follows Pillow's definition; ``tests/test_photometric.py`` compares
every op with Pillow on real photographs. Brightness, contrast, posterize,
solarize and autocontrast are lookup tables computed as Pillow computes
them: identical output, except contrast where OpenCV's and Pillow's grey
conversions round the mean grey level differently (then one level apart);
saturation and sharpness blend with OpenCV, which rounds where Pillow
truncates (at most one level apart); greyscale (at most one level) and hue
(mean below one level, 99% of pixels within five) use OpenCV's colour
conversions.
"""
from typing import TYPE_CHECKING, Optional

import cv2
import numpy as np

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from .view_augmentation import ViewAugmentation

# cv2's RGB/BGR -> grey conversion uses the ITU-R 601-2 luma weights
# (0.299, 0.587, 0.114), as Pillow's convert('L') does.
_TO_GRAY = {'bgr': cv2.COLOR_BGR2GRAY, 'rgb': cv2.COLOR_RGB2GRAY}
_FROM_GRAY = {'bgr': cv2.COLOR_GRAY2BGR, 'rgb': cv2.COLOR_GRAY2RGB}
_TO_HSV = {'bgr': cv2.COLOR_BGR2HSV_FULL, 'rgb': cv2.COLOR_RGB2HSV_FULL}
_FROM_HSV = {'bgr': cv2.COLOR_HSV2BGR_FULL, 'rgb': cv2.COLOR_HSV2RGB_FULL}
_RAMP = np.arange(256, dtype=np.float32)
_RAMP64 = np.arange(256, dtype=np.float64)
_U8 = np.arange(256, dtype=np.uint8)
# Pillow's ImageFilter.SMOOTH, the "degenerate" image of ImageEnhance.Sharpness
_SMOOTH = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], np.float32) / 13.0


# ----------------------------------------------------------------- the ops
def _gray(img: np.ndarray, co: str) -> np.ndarray:
    return cv2.cvtColor(img, _TO_GRAY[co])


def brightness(img: np.ndarray, factor: float) -> np.ndarray:
    """Pillow's ``ImageEnhance.Brightness``: ``blend(black, img, f)``, in
    float32 truncated to uint8 as Pillow's ``Image.blend`` does."""
    return cv2.LUT(
        img,
        np.clip(_RAMP * np.float32(factor), 0, 255).astype(np.uint8))


def contrast(img: np.ndarray, factor: float, co: str) -> np.ndarray:
    """Pillow's ``ImageEnhance.Contrast``: blend with the rounded mean grey
    level (``int(mean + 0.5)``)."""
    mean = np.float32(int(cv2.mean(_gray(img, co))[0] + 0.5))
    lut = mean + np.float32(factor) * (_RAMP - mean)
    return cv2.LUT(img, np.clip(lut, 0, 255).astype(np.uint8))


def saturation(img: np.ndarray, factor: float, co: str) -> np.ndarray:
    """Pillow's ``ImageEnhance.Color``: blend with the greyscale image
    (rounded by OpenCV where Pillow truncates)."""
    gray = cv2.cvtColor(_gray(img, co), _FROM_GRAY[co])
    return cv2.addWeighted(img, factor, gray, 1.0 - factor, 0.0)


def hue(img: np.ndarray, shift: float, co: str) -> np.ndarray:
    """torchvision's ``adjust_hue`` on PIL images: the 8-bit hue channel
    rotated by ``int(shift * 255)`` levels, wrapping around."""
    levels = int(shift * 255) % 256
    if not levels:
        return img
    hsv = cv2.cvtColor(img, _TO_HSV[co])
    hsv[..., 0] = cv2.LUT(hsv[..., 0], (_U8 + np.uint8(levels)))
    return cv2.cvtColor(hsv, _FROM_HSV[co])


_POSTERIZE = {
    b: (_U8 & np.uint8((0xFF << (8 - b)) & 0xFF))
    for b in range(1, 9)
}


def posterize(img: np.ndarray, bits: int) -> np.ndarray:
    """Pillow's ``ImageOps.posterize``: keep the ``bits`` high bits."""
    return cv2.LUT(img, _POSTERIZE[int(bits)]) if bits < 8 else img


def sharpness(img: np.ndarray, factor: float) -> np.ndarray:
    """Pillow's ``ImageEnhance.Sharpness``: blend with Pillow's 3x3 SMOOTH
    filter of the image, whose border pixels Pillow leaves unfiltered."""
    h, w = img.shape[:2]
    if h < 3 or w < 3:
        return img
    smooth = cv2.filter2D(img, -1, _SMOOTH, borderType=cv2.BORDER_REPLICATE)
    smooth[0], smooth[-1] = img[0], img[-1]
    smooth[:, 0], smooth[:, -1] = img[:, 0], img[:, -1]
    return cv2.addWeighted(img, factor, smooth, 1.0 - factor, 0.0)


def solarize(img: np.ndarray, threshold: int) -> np.ndarray:
    """Pillow's ``ImageOps.solarize``: invert the levels >= threshold."""
    if threshold >= 256:
        return img
    return cv2.LUT(img, np.where(_U8 < threshold, _U8, 255 - _U8))


def autocontrast(img: np.ndarray) -> np.ndarray:
    """Pillow's ``ImageOps.autocontrast`` (cutoff 0): stretch each channel's
    [min, max] to [0, 255] with Pillow's truncating table."""
    # per-channel extremes with OpenCV: numpy's reductions over the short
    # channel axis were 20-40x slower here
    lo, hi = np.array([cv2.minMaxLoc(ch)[:2] for ch in cv2.split(img)],
                      np.float64).T
    span = hi - lo
    flat = span <= 0
    scale = 255.0 / np.where(flat, 1.0, span)
    lut = np.trunc(_RAMP64[:, None] * scale - lo * scale)
    lut = np.clip(lut, 0, 255).astype(np.uint8)
    lut[:, flat] = _U8[:, None]
    return cv2.LUT(img, lut.reshape(1, 256, -1))


def augment_views(imgs: np.ndarray,
                  params: 'ViewAugmentation',
                  channel_order: str = 'bgr',
                  rng: Optional[np.random.RandomState] = None) -> np.ndarray:
    """Augment each view of a batch independently (see
    :class:`ViewAugmentation`).

    The random draws are vectorised over the batch; the pixel work is one
    lookup table or OpenCV call per op and view.

    Args:
        imgs (np.ndarray): uint8 ``(N, H, W, 3)``.
        params (ViewAugmentation): the recipe.
        channel_order (str): ``'bgr'`` (mmcv's default) or ``'rgb'``.
        rng (np.random.RandomState, optional): random source; defaults to
            numpy's global state (seeded per worker by MMEngine).

    Returns:
        np.ndarray: uint8 ``(N, H, W, 3)``.
    """
    rng = rng or np.random.mtrand._rand
    p, co = params, channel_order
    n = imgs.shape[0]
    jitter = rng.rand(n) < p.prob
    photo = rng.rand(n) < p.photometric_prob
    gray = rng.rand(n) < p.gray_prob
    flip = rng.rand(n) < p.flip_prob
    if not (jitter.any() or photo.any() or gray.any() or flip.any()):
        return imgs
    b = rng.uniform(*p.brightness, n)
    c = rng.uniform(*p.contrast, n)
    s = rng.uniform(*p.saturation, n)
    h = rng.uniform(*p.hue, n)
    orders = np.argsort(rng.rand(n, 4), axis=1)  # one op order per view
    bits = rng.randint(p.posterize_bits[0], p.posterize_bits[1] + 1, n)
    sharp = rng.uniform(*p.sharpness, n)
    thr = rng.randint(p.solarize_threshold[0], p.solarize_threshold[1] + 1, n)
    out = np.empty_like(imgs)
    for i in range(n):
        img = np.ascontiguousarray(imgs[i])
        if jitter[i]:
            for op in orders[i]:
                if op == 0 and b[i] != 1.0:
                    img = brightness(img, b[i])
                elif op == 1 and c[i] != 1.0:
                    img = contrast(img, c[i], co)
                elif op == 2 and s[i] != 1.0:
                    img = saturation(img, s[i], co)
                elif op == 3 and h[i] != 0.0:
                    img = hue(img, h[i], co)
        if photo[i]:
            img = autocontrast(
                solarize(sharpness(posterize(img, bits[i]), sharp[i]), thr[i]))
        if gray[i]:
            img = cv2.cvtColor(_gray(img, co), _FROM_GRAY[co])
        out[i] = img[:, ::-1] if flip[i] else img
    return out
