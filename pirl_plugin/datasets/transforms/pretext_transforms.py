"""Views of the covariant pretext baselines."""
from typing import Sequence, Union

from mmpretrain.registry import TRANSFORMS

from ...utils.config_errors import ConfigValueError
from ...utils.permutations import resolve_permutations
from .image_view import AugCfg, _as_color
from .pirl_transforms import PIRLJigsawTransform


@TRANSFORMS.register_module()
class JigsawPretextTransform(PIRLJigsawTransform):
    """The input of the Jigsaw pretext task (Noroozi & Favaro, 2016).

    The nine patches of PIRL's jigsaw view (same geometry and per-patch
    jitter as :class:`PIRLJigsawTransform`, no image view), shuffled by a
    permutation drawn uniformly from a fixed set of |T| permutations. The
    index of that permutation is the target: ``results['gt_label']`` (packed
    by ``PackInputs``; a dataset's own class label is replaced).

    ``results['img']`` becomes a list of ``grid_size**2`` patches; added keys
    as in :class:`PIRLJigsawTransform` (``jigsaw_perm``,
    ``jigsaw_perm_index``, ``jigsaw_boxes``).

    Args:
        jigsaw_crop_size (int): side of the crop cut into the grid.
            Defaults to 255.
        jigsaw_crop_scale (tuple): its area range. Defaults to (0.6, 1.0).
        grid_size (int): cells per side. Defaults to 3.
        patch_size (int): patch side, at most the cell side. Defaults to 64.
        patch_jitter (None | str | dict): each patch's augmentation, as in
            :class:`PIRLJigsawTransform`. Defaults to ``recipe``'s, so that
            the baseline sees the same patches as PIRL and only the
            objective differs.
        permutations (int | str | array): the fixed set: |T| (generated with
            ``permutation_method`` and ``permutation_seed``), the ``.npy``
            file of ``tools/make_permutations.py``, or an explicit array.
            Defaults to 1000.
        permutation_method (str): ``'hamming'`` (default, the maximal
            minimal-Hamming-distance set) or ``'random'``.
        permutation_seed (int): seed of the generated set. Defaults to 0.
        interpolation (str): resize interpolation, as
            :class:`PIRLJigsawTransform`'s (``'pillow'``: Pillow's
            antialiased bilinear, within one level). Defaults to 'bilinear'.
        channel_order (str): ``'bgr'`` (default) or ``'rgb'``.
        recipe (str): the augmentation recipe. Defaults to 'vissl_pirl'.
    """

    def __init__(self,
                 jigsaw_crop_size: int = 255,
                 jigsaw_crop_scale: Sequence[float] = (0.6, 1.0),
                 grid_size: int = 3,
                 patch_size: int = 64,
                 patch_jitter: AugCfg = dict(),
                 permutations: Union[int, str, Sequence] = 1000,
                 permutation_method: str = 'hamming',
                 permutation_seed: int = 0,
                 interpolation: str = 'bilinear',
                 channel_order: str = 'bgr',
                 recipe: str = 'vissl_pirl') -> None:
        if isinstance(permutations, str) and permutations == 'all':
            raise ConfigValueError(
                "JigsawPretextTransform permutations must be a fixed set (an "
                "int |T| >= 2, a .npy file or an array), not 'all': the task "
                'classifies the permutation among |T|', 'permutations')
        if isinstance(permutations, int) and permutations < 2:
            raise ConfigValueError(
                'JigsawPretextTransform permutations |T| must be >= 2, got '
                f'{permutations}', 'permutations')
        super().__init__(
            img_jitter=None,
            jigsaw_crop_size=jigsaw_crop_size,
            jigsaw_crop_scale=jigsaw_crop_scale,
            grid_size=grid_size,
            patch_size=patch_size,
            patch_jitter=patch_jitter,
            permutations='all',
            interpolation=interpolation,
            channel_order=channel_order,
            recipe=recipe)
        self.permutation_set = resolve_permutations(permutations,
                                                    self.num_patches,
                                                    permutation_method,
                                                    permutation_seed)

    @property
    def num_permutations(self) -> int:
        """|T|, the number of classes of the task."""
        return len(self.permutation_set)

    def transform(self, results: dict) -> dict:
        img = _as_color(results['img'])
        patches, perm, perm_index, boxes = self._jigsaw_patches(img)
        results['img'] = patches
        results['img_shape'] = patches[0].shape[:2]
        results['jigsaw_perm'] = perm
        results['jigsaw_perm_index'] = perm_index
        results['jigsaw_boxes'] = boxes
        results['gt_label'] = perm_index
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(jigsaw_crop_size='
                f'{self.jigsaw_crop_size}, grid_size={self.grid_size}, '
                f'patch_size={self.patch_size}, permutations='
                f'{self.num_permutations}, '
                f'patch_jitter=({self.patch_jitter}))')
