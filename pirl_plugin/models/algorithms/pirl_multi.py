"""PIRL with several pretext transformations (e.g. jigsaw + rotation)."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmpretrain.registry import MODELS
from torch import nn

from ...utils.config_errors import ConfigValueError
from .base_pirl import BasePIRL


@MODELS.register_module()
class PIRLMultiTransform(BasePIRL):
    """PIRL with one invariance term per transformation.

    The inputs are ``[image view]`` followed, for each transformation in
    ``transforms`` (in order), by its ``num_views`` views: e.g. from
    :class:`PIRLJigsawRotationTransform`, 9 jigsaw patches then one rotated
    image. The backbone runs once on the image views and once, batched, on
    the ``B * num_views`` views of each transformation; each
    transformation has its own head g_t (``neck`` of its entry) and the
    :class:`MultiNCEHead` adds one NCE term per transformation to the image
    term, all against the same memory bank, updated with f(v_I) as in
    :class:`PIRL`.

    Args:
        backbone (dict): backbone config.
        neck (dict): head f over the image view.
        transforms (sequence[dict]): one entry per transformation, with
            ``name`` (matching ``head.transform_names``), ``num_views``
            (views per image, >= 1) and ``neck`` (head g_t, which receives
            the ``B * num_views`` features sample-major).
        head (dict): :class:`MultiNCEHead` config.
        memory_bank (dict): :class:`MemoryBank` config.
        pretrained (str, optional): checkpoint to initialise from.
        data_preprocessor (dict, optional): defaults to
            ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 transforms: Sequence[dict],
                 head: dict,
                 memory_bank: dict,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(
            backbone,
            neck,
            transforms,
            head,
            memory_bank,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)

    def build_transform_heads(self, transforms: Sequence[dict]) -> None:
        """Build ``transform_necks`` (one head g_t per entry of
        ``transforms``) and check them against the loss head's
        ``transform_names``."""
        if not transforms:
            raise ConfigValueError(
                'PIRLMultiTransform needs at least one entry in '
                'transforms')
        self.transform_names: List[str] = []
        self.num_views: List[int] = []
        necks = nn.ModuleDict()
        for t in transforms:
            missing = {'name', 'num_views', 'neck'} - set(t)
            if missing:
                raise ConfigValueError(
                    f'PIRLMultiTransform: transforms entry {dict(t)} lacks '
                    f'{sorted(missing)}')
            if int(t['num_views']) < 1:
                raise ConfigValueError(
                    f"PIRLMultiTransform: num_views of {t['name']!r} must be "
                    f">= 1, got {t['num_views']}")
            self.transform_names.append(str(t['name']))
            self.num_views.append(int(t['num_views']))
            necks[str(t['name'])] = MODELS.build(t['neck'])
        self.transform_necks = necks
        head_names = list(getattr(self.head, 'transform_names', []))
        if head_names != self.transform_names:
            raise ConfigValueError(
                f'PIRLMultiTransform: head.transform_names {head_names} must '
                f'list the transforms in order: {self.transform_names}')

    def check_views(self, inputs: List[torch.Tensor]) -> None:
        """Raise ConfigValueError unless ``inputs`` is ``[image views]``
        followed by each transformation's ``num_views`` view tensors."""
        expected = 1 + sum(self.num_views)
        if not isinstance(inputs, (list, tuple)) or len(inputs) != expected:
            got = len(inputs) if isinstance(inputs, (list, tuple)) else 1
            layout = ' + '.join(
                f'{n} {name}'
                for name, n in zip(self.transform_names, self.num_views))
            raise ConfigValueError(
                f'PIRLMultiTransform expects {expected} views (1 image + '
                f'{layout}), got {got}; check the transform of the pipeline')

    def pretext_features(
            self, inputs: List[torch.Tensor]
    ) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """f(v_I) ``(B, D)`` and, per transformation in order, g_t of its
        views ``(B, D)``."""
        image_feat = self.neck(self.backbone(inputs[0]))[0]
        transform_feats, start = [], 1
        for name, n in zip(self.transform_names, self.num_views):
            views = self.stack_views(inputs[start:start + n])
            start += n
            neck = self.transform_necks[name]
            transform_feats.append(neck(self.backbone(views))[0])
        return image_feat, transform_feats
