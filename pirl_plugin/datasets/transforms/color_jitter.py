"""PIRLColorJitter: the photometric augmentation as a registered
transform, a numpy-2-safe drop-in for mmpretrain's ``ColorJitter``."""
from typing import Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from ...utils.config_errors import ConfigValueError
from .view_augmentation import ViewAugmentation


@TRANSFORMS.register_module()
class PIRLColorJitter(BaseTransform):
    """Colour jitter (+ photometric ops, greyscale) that works under numpy 2.

    A drop-in for mmpretrain's ``ColorJitter`` (+ ``RandomGrayscale``),
    whose hue path crashes under numpy 2 (see
    :mod:`pirl_plugin.datasets.transforms.photometric`). When
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
            raise ConfigValueError(
                "channel_order must be 'bgr' or 'rgb', got "
                f'{channel_order!r}', 'channel_order')
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
