"""The per-view photometric recipes and their validated parameters.

A :class:`ViewAugmentation` holds what
:func:`~pirl_plugin.datasets.transforms.photometric.augment_views` applies
to each view; :data:`RECIPES` names the recipes the PIRL transforms build
them from.
"""
import inspect
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np

from ...utils.config_errors import ConfigValueError, is_number
from .photometric import augment_views

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
    if is_number(value):
        if value < 0:
            raise ConfigValueError(f'{name} must be >= 0, got {value}', name)
        lo, hi = center - value, center + value
        lo = max(lo, bound[0])
    else:
        lo, hi = _pair(value, name)
    if not bound[0] <= lo <= hi <= bound[1]:
        raise ConfigValueError(
            f'{name} range must lie in {list(bound)}, got {(lo, hi)}', name)
    return float(lo), float(hi)


def _pair(value, name: str) -> Tuple[float, float]:
    """``(min, max)`` of a range given as two numbers."""
    if not (isinstance(value, (tuple, list)) and len(value) == 2
            and all(is_number(v) for v in value)):
        raise ConfigValueError(
            f'{name} must be a number or (min, max), got {value!r}', name)
    return value[0], value[1]


def _int_range(value: Sequence[int], name: str,
               bound: Tuple[int, int]) -> Tuple[int, int]:
    lo, hi = (int(v) for v in _pair(value, name))
    if not bound[0] <= lo <= hi <= bound[1]:
        raise ConfigValueError(
            f'{name} must satisfy {bound[0]} <= min <= max <= {bound[1]}, '
            f'got {tuple(value)}', name)
    return lo, hi


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
            if not (is_number(p) and 0.0 <= p <= 1.0):
                raise ConfigValueError(f'{name} must be in [0, 1], got {p!r}',
                                       name)
        self.prob = float(prob)
        self.photometric_prob = float(photometric_prob)
        self.gray_prob = float(gray_prob)
        self.flip_prob = float(flip_prob)

    @classmethod
    def build(cls,
              cfg: Union[None, str, dict],
              view: str,
              recipe: str,
              field: Optional[str] = None) -> 'ViewAugmentation':
        """The augmentation of one kind of view.

        Args:
            cfg (None | str | dict): ``None`` or ``'none'``: no photometric
                change; a recipe name (a key of :data:`RECIPES`); or a dict
                of :class:`ViewAugmentation` arguments, which override those
                of ``recipe`` (or of ``cfg['recipe']`` when given).
            view (str): ``'image'`` or ``'patch'``, which half of the
                recipe to use.
            recipe (str): the default recipe.
            field (str, optional): the transform's argument ``cfg`` comes
                from (``'img_jitter'``); a refused value is reported as
                ``<field>.<argument>``.

        Raises:
            ConfigValueError: a bad recipe or argument.
        """
        try:
            return cls._build(cfg, view, recipe)
        except ConfigValueError as exc:
            if field is None:
                raise
            raise ConfigValueError(
                str(exc),
                f'{field}.{exc.field}' if exc.field else field) from None

    @classmethod
    def _build(cls, cfg: Union[None, str, dict], view: str,
               recipe: str) -> 'ViewAugmentation':
        if cfg is None:
            cfg = 'none'
        if isinstance(cfg, str):
            cfg = dict(recipe=cfg)
        cfg = dict(cfg)
        name = cfg.pop('recipe', recipe)
        if not isinstance(name, str) or name not in RECIPES:
            raise ConfigValueError(
                f'unknown augmentation recipe {name!r}; choose one of '
                f'{sorted(RECIPES)}', 'recipe')
        unknown = sorted(set(cfg) - set(inspect.signature(cls).parameters))
        if unknown:
            raise ConfigValueError(f'unknown augmentation arguments {unknown}',
                                   unknown[0])
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
