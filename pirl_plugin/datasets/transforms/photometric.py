"""Photometric augmentation vectorised over a batch of uint8 images.

Why our own: mmpretrain's ``ColorJitter`` goes through mmcv 2.1.0's
``adjust_hue``, which overflows under numpy 2 (``OverflowError: Python integer
-12 out of bounds for uint8``) for about half the hue draws; and PIRL jitters
nine patches per image independently, which as nine separate PIL/cv2 calls
per image dominates the data loader. Here the factors are drawn per image
and applied to all images in one set of tensor operations.
"""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

# ITU-R 601-2 luma, as PIL and torchvision use, in RGB order.
_LUMA_RGB = (0.299, 0.587, 0.114)


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


def _gray(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB -> (N, 1, H, W) luma."""
    r, g, b = x.unbind(1)
    return (_LUMA_RGB[0] * r + _LUMA_RGB[1] * g + _LUMA_RGB[2] * b).unsqueeze(1)


def rgb_to_hsv(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB in [0, 1] -> HSV in [0, 1]."""
    r, g, b = x.unbind(1)
    maxc, _ = x.max(1)
    minc, _ = x.min(1)
    delta = maxc - minc
    s = torch.where(maxc > 0, delta / maxc.clamp(min=1e-12), torch.zeros_like(maxc))
    d = delta.clamp(min=1e-12)
    rc, gc, bc = (maxc - r) / d, (maxc - g) / d, (maxc - b) / d
    h = torch.where(maxc == r, bc - gc,
                    torch.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = torch.where(delta > 0, (h / 6.0) % 1.0, torch.zeros_like(h))
    return torch.stack([h, s, maxc], 1)


def hsv_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) HSV in [0, 1] -> RGB in [0, 1]."""
    h, s, v = x.unbind(1)
    i = torch.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.to(torch.int64) % 6
    p = v * (1.0 - s)
    q = v * (1.0 - s * f)
    t = v * (1.0 - s * (1.0 - f))
    # For each sector i, (r, g, b) is a selection among (v, q, p, t).
    cand = torch.stack([v, q, p, t], 1)  # N, 4, H, W
    sel = torch.tensor([[0, 3, 2], [1, 0, 2], [2, 0, 3], [2, 1, 0],
                        [3, 2, 0], [0, 2, 1]], device=x.device)[i]  # N,H,W,3
    return torch.gather(cand, 1, sel.permute(0, 3, 1, 2))


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
    x = torch.from_numpy(np.ascontiguousarray(imgs)).permute(0, 3, 1, 2).float()
    x = x / 255.0
    if channel_order == 'bgr':
        x = x.flip(1)

    def draw(rng_range, identity):
        f = rng.uniform(rng_range[0], rng_range[1], n)
        f[~jitter] = identity
        return torch.from_numpy(f).float().view(n, 1, 1, 1)

    b = draw(brightness, 1.0)
    c = draw(contrast, 1.0)
    s = draw(saturation, 1.0)
    h = draw(hue, 0.0)
    if jitter.any():
        for op in rng.permutation(4):
            if op == 0 and brightness != (1.0, 1.0):
                x = (x * b).clamp_(0, 1)
            elif op == 1 and contrast != (1.0, 1.0):
                mean = _gray(x).mean(dim=(1, 2, 3), keepdim=True)
                x = (c * x + (1 - c) * mean).clamp_(0, 1)
            elif op == 2 and saturation != (1.0, 1.0):
                x = (s * x + (1 - s) * _gray(x)).clamp_(0, 1)
            elif op == 3 and hue != (0.0, 0.0):
                sel = torch.from_numpy(jitter).nonzero().flatten()
                hsv = rgb_to_hsv(x[sel])
                hsv[:, 0] = (hsv[:, 0] + h[sel].view(-1, 1, 1)) % 1.0
                x[sel] = hsv_to_rgb(hsv)
    if gray.any():
        sel = torch.from_numpy(gray).nonzero().flatten()
        x[sel] = _gray(x[sel]).expand(-1, 3, -1, -1)
    if channel_order == 'bgr':
        x = x.flip(1)
    out = (x * 255.0).round_().clamp_(0, 255).to(torch.uint8)
    return out.permute(0, 2, 3, 1).contiguous().numpy()


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
