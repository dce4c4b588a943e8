"""Photometric augmentation vectorised over a batch of uint8 images.

Why our own: mmpretrain's ``ColorJitter`` goes through mmcv 2.1.0's
``adjust_hue``, which overflows under numpy 2 (``OverflowError: Python integer
-12 out of bounds for uint8``) for about half the hue draws; and PIRL jitters
nine patches per image independently, which as nine separate PIL/cv2 calls
per image dominates the data loader. Here the factors are drawn for the
whole batch at once and applied per image with uint8 lookup tables and
OpenCV conversions.
"""
from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

# cv2's RGB/BGR -> grey conversion uses the ITU-R 601-2 luma weights
# (0.299, 0.587, 0.114), as PIL and torchvision do.
_TO_GRAY = {'bgr': cv2.COLOR_BGR2GRAY, 'rgb': cv2.COLOR_RGB2GRAY}
_FROM_GRAY = {'bgr': cv2.COLOR_GRAY2BGR, 'rgb': cv2.COLOR_GRAY2RGB}
_TO_HSV = {'bgr': cv2.COLOR_BGR2HSV_FULL, 'rgb': cv2.COLOR_RGB2HSV_FULL}
_FROM_HSV = {'bgr': cv2.COLOR_HSV2BGR_FULL, 'rgb': cv2.COLOR_HSV2RGB_FULL}
_RAMP = np.arange(256, dtype=np.float32)


def _factor_range(value: Union[float, Sequence[float]], name: str,
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


def _lut(scale: float, offset: float = 0.0) -> np.ndarray:
    """uint8 table of ``clip(round(scale * v + offset))``."""
    return np.clip(np.rint(_RAMP * scale + offset), 0, 255).astype(np.uint8)


def _jitter_one(img: np.ndarray, order, b: float, c: float, s: float,
                h: float, co: str) -> np.ndarray:
    """Jitter one uint8 ``(H, W, 3)`` image; each op is rounded to uint8,
    as torchvision's ColorJitter does on PIL images."""
    for op in order:
        if op == 0 and b != 1.0:
            img = cv2.LUT(img, _lut(b))
        elif op == 1 and c != 1.0:
            mean = float(cv2.cvtColor(img, _TO_GRAY[co]).mean())
            img = cv2.LUT(img, _lut(c, (1.0 - c) * mean))
        elif op == 2 and s != 1.0:
            gray = cv2.cvtColor(cv2.cvtColor(img, _TO_GRAY[co]),
                                _FROM_GRAY[co])
            img = cv2.addWeighted(img, s, gray, 1.0 - s, 0.0)
        elif op == 3 and h != 0.0:
            # hue as a rotation of cv2's full-range (0-255) hue channel,
            # wrapping around like PIL's HSV mode in torchvision
            hsv = cv2.cvtColor(img, _TO_HSV[co])
            shift = int(np.rint(h * 256)) % 256
            hsv[..., 0] = (hsv[..., 0].astype(np.int16) + shift).astype(
                np.uint8) if shift else hsv[..., 0]
            img = cv2.cvtColor(hsv, _FROM_HSV[co])
    return img


def color_jitter_batch(imgs: np.ndarray,
                       brightness: Tuple[float, float] = (1.0, 1.0),
                       contrast: Tuple[float, float] = (1.0, 1.0),
                       saturation: Tuple[float, float] = (1.0, 1.0),
                       hue: Tuple[float, float] = (0.0, 0.0),
                       prob: float = 1.0,
                       gray_prob: float = 0.0,
                       channel_order: str = 'bgr',
                       rng: Optional[np.random.RandomState] = None) -> np.ndarray:
    """Colour-jitter and randomly grey each image of a batch independently.

    Each image is jittered with probability ``prob``; its brightness,
    contrast, saturation and hue factors are drawn independently and applied
    in an order drawn once per call (torchvision's ``ColorJitter`` semantics
    per image). Then each image is turned grey with probability
    ``gray_prob``.

    The random draws are vectorised over the batch; the pixel work is done
    per image with uint8 lookup tables and OpenCV colour conversions (a
    float pipeline over the batch was 4x slower than MoCo v2's whole
    pipeline, see tools/benchmarks/data_pipeline.py).

    Args:
        imgs (np.ndarray): uint8 ``(N, H, W, 3)``.
        brightness, contrast, saturation (tuple): factor ranges; 1 is
            identity.
        hue (tuple): hue shift range, within [-0.5, 0.5]; 0 is identity.
        prob (float): probability of jittering an image.
        gray_prob (float): probability of converting an image to grey.
        channel_order (str): ``'bgr'`` (mmcv's default) or ``'rgb'``.
        rng (np.random.RandomState, optional): random source; defaults to
            numpy's global state (seeded per worker by MMEngine).

    Returns:
        np.ndarray: uint8 ``(N, H, W, 3)``.
    """
    rng = rng or np.random.mtrand._rand
    n = imgs.shape[0]
    jitter = rng.rand(n) < prob
    gray = rng.rand(n) < gray_prob
    if not jitter.any() and not gray.any():
        return imgs

    def draw(rng_range, identity):
        f = rng.uniform(rng_range[0], rng_range[1], n)
        f[~jitter] = identity
        return f

    b = draw(brightness, 1.0)
    c = draw(contrast, 1.0)
    s = draw(saturation, 1.0)
    h = draw(hue, 0.0)
    order = rng.permutation(4) if jitter.any() else ()
    out = np.empty_like(imgs)
    for i in range(n):
        img = np.ascontiguousarray(imgs[i])
        if jitter[i]:
            img = _jitter_one(img, order, b[i], c[i], s[i], h[i],
                              channel_order)
        if gray[i]:
            img = cv2.cvtColor(cv2.cvtColor(img, _TO_GRAY[channel_order]),
                               _FROM_GRAY[channel_order])
        out[i] = img
    return out


class ColorJitterParams:
    """Validated jitter parameters shared by the transforms.

    Args:
        brightness, contrast, saturation (float | tuple): jitter strength x
            (factor drawn from ``[max(0, 1 - x), 1 + x]``) or a range.
        hue (float | tuple): shift strength x in [0, 0.5] (drawn from
            ``[-x, x]``) or a range.
        prob (float): probability of jittering. Defaults to 0.8.
        gray_prob (float): probability of greying. Defaults to 0.2.
    """

    def __init__(self,
                 brightness: Union[float, Sequence[float]] = 0.4,
                 contrast: Union[float, Sequence[float]] = 0.4,
                 saturation: Union[float, Sequence[float]] = 0.4,
                 hue: Union[float, Sequence[float]] = 0.1,
                 prob: float = 0.8,
                 gray_prob: float = 0.2) -> None:
        self.brightness = _factor_range(brightness, 'brightness')
        self.contrast = _factor_range(contrast, 'contrast')
        self.saturation = _factor_range(saturation, 'saturation')
        self.hue = _factor_range(hue, 'hue', center=0.0, bound=(-0.5, 0.5))
        for name, p in (('prob', prob), ('gray_prob', gray_prob)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f'{name} must be in [0, 1], got {p}')
        self.prob = prob
        self.gray_prob = gray_prob

    def __call__(self, imgs: np.ndarray, channel_order: str) -> np.ndarray:
        return color_jitter_batch(imgs, self.brightness, self.contrast,
                                  self.saturation, self.hue, self.prob,
                                  self.gray_prob, channel_order)

    def __repr__(self) -> str:
        return (f'brightness={self.brightness}, contrast={self.contrast}, '
                f'saturation={self.saturation}, hue={self.hue}, '
                f'prob={self.prob}, gray_prob={self.gray_prob}')


@TRANSFORMS.register_module()
class PIRLColorJitter(BaseTransform):
    """Colour jitter and random greyscale that work under numpy 2.

    A drop-in for mmpretrain's ``ColorJitter`` (+ ``RandomGrayscale``),
    whose hue path crashes under numpy 2 (see the module docstring). When
    ``results['img']`` is a list of images of one size (multi-view
    pipelines), each view is jittered independently in one batched call.

    Args:
        brightness, contrast, saturation (float | tuple): see
            :class:`ColorJitterParams`. Default 0.4 each.
        hue (float | tuple): Defaults to 0.1.
        prob (float): probability of jittering each image. Defaults to 0.8.
        gray_prob (float): probability of greying each image. Defaults to 0.
        channel_order (str): ``'bgr'`` (default, mmcv) or ``'rgb'``.
    """

    def __init__(self,
                 brightness: Union[float, Sequence[float]] = 0.4,
                 contrast: Union[float, Sequence[float]] = 0.4,
                 saturation: Union[float, Sequence[float]] = 0.4,
                 hue: Union[float, Sequence[float]] = 0.1,
                 prob: float = 0.8,
                 gray_prob: float = 0.0,
                 channel_order: str = 'bgr') -> None:
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError("channel_order must be 'bgr' or 'rgb', got "
                             f'{channel_order!r}')
        self.params = ColorJitterParams(brightness, contrast, saturation, hue,
                                        prob, gray_prob)
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
            gray_input = img.ndim == 2
            if gray_input:
                img = np.repeat(img[..., None], 3, axis=2)
            results['img'] = self.params(img[None], self.channel_order)[0]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.params})'
