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
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

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

# The named per-view recipes. 'image' is the image view's (and a rotated
# view's), 'patch' each jigsaw patch's; the image view's flip is the
# transform's own ``img_flip_prob``.
RECIPES: Dict[str, Dict[str, dict]] = {
    # The authors' released config (VISSL pirl_jigsaw_4node_resnet50.yaml):
    # ColorJitter(0.4, 0.4, 0.4, hue=0.2) always, ImgPilRandomPhotometric
    # (p=0.66), RandomGrayscale(0.2), RandomHorizontalFlip, on every view.
    'vissl_pirl':
    dict(
        image=dict(
            brightness=0.4,
            contrast=0.4,
            saturation=0.4,
            hue=0.2,
            prob=1.0,
            photometric_prob=0.66,
            gray_prob=0.2),
        patch=dict(
            brightness=0.4,
            contrast=0.4,
            saturation=0.4,
            hue=0.2,
            prob=1.0,
            photometric_prob=0.66,
            gray_prob=0.2,
            flip_prob=0.5)),
    # MoCo v2's colour jitter (p=0.8, hue 0.1) and greyscale, no photometric
    # op, patches not flipped: this project's recipe until 2026-12, which the
    # small demo configs were tuned with.
    'mocov2_jitter':
    dict(
        image=dict(
            brightness=0.4,
            contrast=0.4,
            saturation=0.4,
            hue=0.1,
            prob=0.8,
            gray_prob=0.2),
        patch=dict(
            brightness=0.4,
            contrast=0.4,
            saturation=0.4,
            hue=0.1,
            prob=0.8,
            gray_prob=0.2)),
    # No photometric change at all (geometry only): tests and debugging.
    'none':
    dict(image=dict(prob=0.0), patch=dict(prob=0.0)),
}


def _factor_range(value: Union[float, Sequence[float]],
                  name: str,
                  center: float = 1.0,
                  bound: Tuple[float, float] = (0, float('inf'))):
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f'{name} must be >= 0, got {value}')
        lo, hi = center - value, center + value
        lo = max(lo, bound[0])
    else:
        lo, hi = value
    if not bound[0] <= lo <= hi <= bound[1]:
        raise ValueError(f'{name} range must lie in {list(bound)}, got '
                         f'{(lo, hi)}')
    return float(lo), float(hi)


def _int_range(value: Sequence[int], name: str,
               bound: Tuple[int, int]) -> Tuple[int, int]:
    lo, hi = (int(v) for v in value)
    if not bound[0] <= lo <= hi <= bound[1]:
        raise ValueError(f'{name} must satisfy {bound[0]} <= min <= max <= '
                         f'{bound[1]}, got {tuple(value)}')
    return lo, hi


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


# ---------------------------------------------------------- the per-view
class ViewAugmentation:
    """Validated parameters of the photometric augmentation of one view.

    Applied to a batch of views, each view independently: colour jitter
    (with probability ``prob``; brightness, contrast, saturation and hue
    factors drawn per view and applied in an order drawn per view, as
    torchvision's ``ColorJitter`` does per call), then with probability
    ``photometric_prob`` posterize, sharpness, solarize and autocontrast in
    that order (VISSL's ``ImgPilRandomPhotometric``), then greyscale with
    probability ``gray_prob`` and a horizontal flip with probability
    ``flip_prob``.

    Args:
        brightness, contrast, saturation (float | tuple): jitter strength x
            (factor drawn from ``[max(0, 1 - x), 1 + x]``) or a range.
            Default 0.4 each.
        hue (float | tuple): shift strength x in [0, 0.5] (drawn from
            ``[-x, x]``) or a range. Defaults to 0.2.
        prob (float): probability of the colour jitter. Defaults to 1.0.
        photometric_prob (float): probability of the photometric ops.
            Defaults to 0 (none).
        posterize_bits (tuple): inclusive range of the bits kept.
            Defaults to (4, 8) (VISSL).
        sharpness (tuple): range of the sharpness factor. Defaults to
            (0.1, 1.9) (VISSL).
        solarize_threshold (tuple): inclusive range of the threshold.
            Defaults to (0, 256) (VISSL; 256 leaves the view unchanged).
        gray_prob (float): probability of greyscale. Defaults to 0.
        flip_prob (float): probability of a horizontal flip. Defaults to 0.
    """

    def __init__(self,
                 brightness: Union[float, Sequence[float]] = 0.4,
                 contrast: Union[float, Sequence[float]] = 0.4,
                 saturation: Union[float, Sequence[float]] = 0.4,
                 hue: Union[float, Sequence[float]] = 0.2,
                 prob: float = 1.0,
                 photometric_prob: float = 0.0,
                 posterize_bits: Sequence[int] = (4, 8),
                 sharpness: Sequence[float] = (0.1, 1.9),
                 solarize_threshold: Sequence[int] = (0, 256),
                 gray_prob: float = 0.0,
                 flip_prob: float = 0.0) -> None:
        self.brightness = _factor_range(brightness, 'brightness')
        self.contrast = _factor_range(contrast, 'contrast')
        self.saturation = _factor_range(saturation, 'saturation')
        self.hue = _factor_range(hue, 'hue', center=0.0, bound=(-0.5, 0.5))
        self.sharpness = _factor_range(sharpness, 'sharpness')
        self.posterize_bits = _int_range(posterize_bits, 'posterize_bits',
                                         (1, 8))
        self.solarize_threshold = _int_range(solarize_threshold,
                                             'solarize_threshold', (0, 256))
        for name, p in (('prob', prob), ('photometric_prob', photometric_prob),
                        ('gray_prob', gray_prob), ('flip_prob', flip_prob)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f'{name} must be in [0, 1], got {p}')
        self.prob = float(prob)
        self.photometric_prob = float(photometric_prob)
        self.gray_prob = float(gray_prob)
        self.flip_prob = float(flip_prob)

    @classmethod
    def build(cls, cfg: Union[None, str, dict], view: str,
              recipe: str) -> 'ViewAugmentation':
        """The augmentation of one kind of view.

        Args:
            cfg (None | str | dict): ``None`` or ``'none'``: no photometric
                change; a recipe name (a key of :data:`RECIPES`); or a dict
                of :class:`ViewAugmentation` arguments, which override those
                of ``recipe`` (or of ``cfg['recipe']`` when given).
            view (str): ``'image'`` or ``'patch'``, which half of the
                recipe to use.
            recipe (str): the default recipe.
        """
        if cfg is None:
            cfg = 'none'
        if isinstance(cfg, str):
            cfg = dict(recipe=cfg)
        cfg = dict(cfg)
        name = cfg.pop('recipe', recipe)
        if name not in RECIPES:
            raise ValueError(f'unknown augmentation recipe {name!r}; choose '
                             f'one of {sorted(RECIPES)}')
        return cls(**{**RECIPES[name][view], **cfg})

    def __call__(self,
                 imgs: np.ndarray,
                 channel_order: str,
                 rng: Optional[np.random.RandomState] = None) -> np.ndarray:
        return augment_views(imgs, self, channel_order, rng)

    def __repr__(self) -> str:
        return (f'brightness={self.brightness}, contrast={self.contrast}, '
                f'saturation={self.saturation}, hue={self.hue}, '
                f'prob={self.prob}, photometric_prob={self.photometric_prob}'
                f', posterize_bits={self.posterize_bits}, sharpness='
                f'{self.sharpness}, solarize_threshold='
                f'{self.solarize_threshold}, gray_prob={self.gray_prob}, '
                f'flip_prob={self.flip_prob}')


def augment_views(imgs: np.ndarray,
                  params: ViewAugmentation,
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


@TRANSFORMS.register_module()
class PIRLColorJitter(BaseTransform):
    """Colour jitter (+ photometric ops, greyscale) that works under numpy 2.

    A drop-in for mmpretrain's ``ColorJitter`` (+ ``RandomGrayscale``),
    whose hue path crashes under numpy 2 (see the module docstring). When
    ``results['img']`` is a list of images of one size (multi-view
    pipelines), each view is augmented independently in one batched call.

    Args:
        brightness, contrast, saturation (float | tuple): see
            :class:`ViewAugmentation`. Default 0.4 each.
        hue (float | tuple): Defaults to 0.1.
        prob (float): probability of jittering each image. Defaults to 0.8.
        gray_prob (float): probability of greying each image. Defaults to 0.
        photometric_prob (float): probability of VISSL's photometric ops.
            Defaults to 0.
        channel_order (str): ``'bgr'`` (default, mmcv) or ``'rgb'``.
    """

    def __init__(self,
                 brightness: Union[float, Sequence[float]] = 0.4,
                 contrast: Union[float, Sequence[float]] = 0.4,
                 saturation: Union[float, Sequence[float]] = 0.4,
                 hue: Union[float, Sequence[float]] = 0.1,
                 prob: float = 0.8,
                 gray_prob: float = 0.0,
                 photometric_prob: float = 0.0,
                 channel_order: str = 'bgr') -> None:
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError("channel_order must be 'bgr' or 'rgb', got "
                             f'{channel_order!r}')
        self.params = ViewAugmentation(
            brightness,
            contrast,
            saturation,
            hue,
            prob=prob,
            photometric_prob=photometric_prob,
            gray_prob=gray_prob)
        self.channel_order = channel_order

    def transform(self, results: dict) -> dict:
        img = results['img']
        if isinstance(img, list):
            if len({i.shape for i in img}) == 1:
                out = self.params(np.stack(img), self.channel_order)
                results['img'] = list(out)
            else:
                results['img'] = [
                    self.params(i[None], self.channel_order)[0] for i in img
                ]
        else:
            if img.ndim == 2:
                img = np.repeat(img[..., None], 3, axis=2)
            results['img'] = self.params(img[None], self.channel_order)[0]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.params})'
