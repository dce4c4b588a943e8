"""The PIRL view transforms."""
import math
from typing import Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import RandomResizedCrop
from mmpretrain.registry import TRANSFORMS

from ...utils.config_errors import ConfigValueError, check_size
from ...utils.permutations import cached_permutations
from .image_view import AugCfg, _as_color, _check_scale, _ImageViewMixin
from .view_augmentation import ViewAugmentation


@TRANSFORMS.register_module()
class PIRLJigsawTransform(BaseTransform, _ImageViewMixin):
    """The two PIRL views of one image: the image view and nine jigsaw patches.

    Output ``results['img']`` is a flat list of ``1 + grid_size**2`` uint8
    images: the image view (``img_size`` square) followed by the
    ``patch_size`` square patches in shuffled order. The jigsaw view is a
    RandomResizedCrop to ``jigsaw_crop_size`` (scale ``jigsaw_crop_scale``),
    cut into a ``grid_size x grid_size`` grid of cells; from each cell a
    random ``patch_size`` patch is taken (random offset inside the cell),
    and the patches are reordered by a random permutation: slot ``k`` holds
    the patch of cell ``perm[k]`` (cells numbered row-major). The image view
    and every patch are then augmented independently (see
    :class:`ViewAugmentation`): by default with the authors' recipe
    (``recipe='vissl_pirl'``: colour jitter always with hue 0.2, VISSL's
    photometric ops with p=0.66, greyscale p=0.2, horizontal flip p=0.5, on
    each view, each with its own op order).

    Added keys: ``jigsaw_perm`` (the permutation), ``jigsaw_perm_index``
    (its index in the fixed set, -1 when drawn from all of them) and
    ``jigsaw_boxes`` (``(K, 4)`` x1, y1, x2, y2 of each slot's patch in the
    ``jigsaw_crop_size`` crop, before any flip of the patch).

    Args:
        img_size (int): image view size. Defaults to 224.
        img_crop_scale (tuple): area range of the image view crop.
            Defaults to (0.08, 1.0).
        img_flip_prob (float): horizontal flip probability of the image
            view. Defaults to 0.5.
        img_jitter (None | str | dict): the image view's photometric
            augmentation: a dict of :class:`ViewAugmentation` arguments that
            override ``recipe``'s (default: none, the recipe as it is), a
            recipe name, or None / ``'none'`` for no photometric change.
        jigsaw_crop_size (int): side of the jigsaw crop. Defaults to 255.
        jigsaw_crop_scale (tuple): area range of the jigsaw crop.
            Defaults to (0.6, 1.0) (the paper's "at least 60%").
        grid_size (int): cells per side. Defaults to 3.
        patch_size (int): patch side, at most the cell side
            ``jigsaw_crop_size // grid_size``. Defaults to 64.
        patch_jitter (None | str | dict): each patch's augmentation, as
            ``img_jitter`` (its ``flip_prob`` flips patches).
        permutations (str | int | array): ``'all'`` (default) draws any of
            the ``(grid_size**2)!`` permutations; an int |T| uses a fixed set
            of |T| permutations generated with ``permutation_seed`` (the
            paper's ablation); an array gives the set explicitly.
        permutation_method (str): ``'random'`` or ``'hamming'`` for an int
            ``permutations``. Defaults to 'random'.
        permutation_seed (int): seed of the fixed set. Defaults to 0.
        interpolation (str): resize interpolation of the image view and the
            jigsaw crop: ``'bilinear'`` (default), ``'nearest'``,
            ``'bicubic'`` or ``'area'`` with OpenCV (as MMPretrain's
            RandomResizedCrop; OpenCV's bilinear does not antialias when
            shrinking), or ``'pillow'``: the antialiased bilinear filter
            of Pillow's ``resize(..., PIL.Image.BILINEAR)``, the resize of
            the authors' VISSL pipeline (torchvision's RandomResizedCrop on
            PIL images), computed with torch; at most one level from
            Pillow's output.
        channel_order (str): of the input image, ``'bgr'`` (mmcv's
            ``LoadImageFromFile``, default) or ``'rgb'``.
        recipe (str): the named augmentation recipe of
            :data:`~pirl_plugin.datasets.transforms.view_augmentation.RECIPES`:
            ``'vissl_pirl'`` (default, the authors' released config),
            ``'mocov2_jitter'`` (MoCo v2's colour jitter p=0.8, hue 0.1, and
            greyscale; no photometric op; patches not flipped) or
            ``'none'``.
    """

    def __init__(self,
                 img_size: int = 224,
                 img_crop_scale: Sequence[float] = (0.08, 1.0),
                 img_flip_prob: float = 0.5,
                 img_jitter: AugCfg = dict(),
                 jigsaw_crop_size: int = 255,
                 jigsaw_crop_scale: Sequence[float] = (0.6, 1.0),
                 grid_size: int = 3,
                 patch_size: int = 64,
                 patch_jitter: AugCfg = dict(),
                 permutations: Union[str, int, Sequence] = 'all',
                 permutation_method: str = 'random',
                 permutation_seed: int = 0,
                 interpolation: str = 'bilinear',
                 channel_order: str = 'bgr',
                 recipe: str = 'vissl_pirl') -> None:
        self._init_image_view(img_size, img_crop_scale, img_flip_prob,
                              img_jitter, interpolation, recipe, channel_order)
        owner = type(self).__name__
        for name, value in (('grid_size', grid_size), ('jigsaw_crop_size',
                                                       jigsaw_crop_size),
                            ('patch_size', patch_size)):
            check_size(owner, name, value)
        if jigsaw_crop_size % grid_size:
            raise ConfigValueError(
                f'jigsaw_crop_size ({jigsaw_crop_size}) must be divisible by '
                f'grid_size ({grid_size}) so the grid fits the crop exactly '
                f'(the paper: 255 = 3 x 85)', 'jigsaw_crop_size')
        cell = jigsaw_crop_size // grid_size
        if not 0 < patch_size <= cell:
            raise ConfigValueError(
                f'patch_size ({patch_size}) must be in [1, {cell}]: a patch '
                f'must fit in its cell of {jigsaw_crop_size} / {grid_size} = '
                f'{cell} pixels', 'patch_size')
        self.jigsaw_crop_size = jigsaw_crop_size
        self.jigsaw_crop = RandomResizedCrop(
            jigsaw_crop_size,
            crop_ratio_range=_check_scale(jigsaw_crop_scale,
                                          'jigsaw_crop_scale'))
        self.grid_size = grid_size
        self.cell_size = cell
        self.patch_size = patch_size
        self.num_patches = grid_size * grid_size
        self.patch_jitter = ViewAugmentation.build(patch_jitter, 'patch',
                                                   recipe, 'patch_jitter')
        self.permutation_set = self._build_permutations(
            permutations, permutation_method, permutation_seed)

    def _build_permutations(self, permutations, method: str,
                            seed: int) -> Optional[np.ndarray]:
        if isinstance(permutations, str):
            if permutations != 'all':
                raise ConfigValueError(
                    "permutations must be 'all', an int |T| or an array of "
                    f'permutations, got {permutations!r}', 'permutations')
            return None
        if isinstance(permutations, (int, np.integer)):
            total = math.factorial(self.num_patches)
            if not 1 <= permutations <= total:
                raise ConfigValueError(
                    f'permutations must be in [1, {total}] for '
                    f'{self.num_patches} patches, got {permutations}',
                    'permutations')
            return cached_permutations(
                int(permutations), self.num_patches, method, seed).copy()
        try:
            perms = np.asarray(permutations, dtype=np.int64)
        except (TypeError, ValueError):
            perms = np.zeros(0)
        if perms.ndim != 2 or perms.shape[1] != self.num_patches or any(
                sorted(p) != list(range(self.num_patches))
                for p in perms.tolist()):
            raise ConfigValueError(
                f'permutations must be an array of shape (T, '
                f'{self.num_patches}) whose rows are permutations of '
                f'0..{self.num_patches - 1}', 'permutations')
        return perms

    def _jigsaw_patches(self, img: np.ndarray):
        crop, _ = self._crop_resize(img, self.jigsaw_crop,
                                    self.jigsaw_crop_size, self.interp)
        g, c, p = self.grid_size, self.cell_size, self.patch_size
        # One random offset per cell, inside the cell: [0, c - p) as the
        # authors' ImgPatchesFromTensor draws it (patch_jitter = 85 - 64 = 21
        # offsets), or 0 when the patch fills the cell.
        offs = np.random.randint(0, max(c - p, 1), size=(self.num_patches, 2))
        rows, cols = np.divmod(np.arange(self.num_patches), g)
        y0 = rows * c + offs[:, 0]
        x0 = cols * c + offs[:, 1]
        if self.permutation_set is None:
            perm = np.random.permutation(self.num_patches)
            perm_index = -1
        else:
            perm_index = int(np.random.randint(len(self.permutation_set)))
            perm = self.permutation_set[perm_index]
        patches = np.stack(
            [crop[y0[j]:y0[j] + p, x0[j]:x0[j] + p] for j in perm])
        patches = self.patch_jitter(patches, self.channel_order)
        boxes = np.stack([x0[perm], y0[perm], x0[perm] + p, y0[perm] + p], 1)
        return list(patches), perm, perm_index, boxes

    def transform(self, results: dict) -> dict:
        img = _as_color(results['img'])
        view = self._image_view(img)
        patches, perm, perm_index, boxes = self._jigsaw_patches(img)
        results['img'] = [view] + patches
        results['img_shape'] = view.shape[:2]
        results['jigsaw_perm'] = perm
        results['jigsaw_perm_index'] = perm_index
        results['jigsaw_boxes'] = boxes
        return results

    def __repr__(self) -> str:
        perms = 'all' if self.permutation_set is None else len(
            self.permutation_set)
        return (f'{self.__class__.__name__}(img_size={self.img_size}, '
                f'jigsaw_crop_size={self.jigsaw_crop_size}, '
                f'grid_size={self.grid_size}, patch_size={self.patch_size}, '
                f'permutations={perms}, recipe={self.recipe!r}, '
                f'img_jitter=({self.img_jitter}), '
                f'patch_jitter=({self.patch_jitter}))')
