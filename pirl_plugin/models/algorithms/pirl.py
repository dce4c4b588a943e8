"""PIRL: Pretext-Invariant Representation Learning (Misra & van der Maaten,
CVPR 2020)."""
from typing import List, Optional, Tuple, Union

import torch
from mmpretrain.registry import MODELS
from torch import nn

from ...utils.config_errors import ConfigValueError
from .base_pirl import BasePIRL, replicated_state_buffers

__all__ = ['PIRL', 'TRUNK_ORDERS', 'replicated_state_buffers']


def _out_features(module: nn.Module) -> Optional[int]:
    """The output size of a neck: ``out_channels``, or its last Linear's."""
    out = getattr(module, 'out_channels', None)
    if isinstance(out, int):
        return out
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    return linears[-1].out_features if linears else None


TRUNK_ORDERS = ('image_first', 'transform_first')


@MODELS.register_module()
class PIRL(BasePIRL):
    """PIRL.

    The first input view is the image view I; the remaining ``K`` views are
    the transformed view I^t (the nine jigsaw patches, or one rotated image).
    The backbone runs once on the image views and once, batched, on all
    ``B * K`` transformed views. ``neck`` is head f (over v_I), and
    ``transform_neck`` is head g (over the ``K`` features of v_It, which it
    receives sample-major: the K views of one image are adjacent). The head
    compares both against the memory bank entry of each image, and the bank
    is updated with f(v_I) after the step.

    Args:
        backbone (dict): backbone config (a ResNet in the paper).
        neck (dict): head f, e.g. ``LinearNeck(2048, 128, gap_dim=2,
            norm_cfg=None)``.
        transform_neck (dict): head g, e.g. :class:`PIRLJigsawNeck`.
        head (dict): the loss head, :class:`NCEHead`.
        memory_bank (dict): :class:`MemoryBank` config.
        pretrained (str, optional): checkpoint to initialise from.
        data_preprocessor (dict, optional): defaults to
            ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): initialisation config.
        channels_last (bool): run the backbone in the channels-last memory
            format (faster convolutions on GPUs with tensor cores, mostly
            with ``--amp``). Weights stay interchangeable with the default
            format. Defaults to False.
        trunk_order (str): the order of the two backbone calls, which sets
            the BatchNorm running statistics (each call updates them, the
            last one weighs most): ``'image_first'`` (default) runs the
            image views, then the transformed views; ``'transform_first'``
            runs the transformed views first, as VISSL's multi-input model
            does for PIRL (``patches``, then ``images``). The loss does not
            depend on it (training-mode BatchNorm uses batch statistics).
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 transform_neck: dict,
                 head: dict,
                 memory_bank: dict,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 channels_last: bool = False,
                 trunk_order: str = 'image_first') -> None:
        super().__init__(
            backbone,
            neck,
            transform_neck,
            head,
            memory_bank,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self._check_feature_dims()
        if trunk_order not in TRUNK_ORDERS:
            raise ConfigValueError(
                f'PIRL trunk_order must be one of {TRUNK_ORDERS}, got '
                f'{trunk_order!r}', 'trunk_order')
        self.trunk_order = trunk_order
        self.channels_last = channels_last
        if channels_last:
            self.backbone.to(memory_format=torch.channels_last)

    def build_transform_heads(self, transform_neck: dict) -> None:
        """Build ``transform_neck`` (head g) from its config."""
        self.transform_neck = MODELS.build(transform_neck)

    def _check_feature_dims(self) -> None:
        """Refuse heads f, g and a bank whose feature sizes differ."""
        dims = {
            'neck (head f)': _out_features(self.neck),
            'transform_neck (head g)': _out_features(self.transform_neck),
            'memory_bank.feat_dim': getattr(self.memory_bank, 'feat_dim', None)
        }
        known = {k: v for k, v in dims.items() if v is not None}
        if len(set(known.values())) > 1:
            sizes = ', '.join(f'{k} = {v}' for k, v in known.items())
            raise ConfigValueError(
                f'PIRL: the feature sizes disagree ({sizes}); f(v_I), '
                'g(v_It) and the memory bank entries are compared with each '
                'other, so neck.out_channels, transform_neck.out_channels '
                'and memory_bank.feat_dim must be the same value (the '
                'paper: 128)')

    def check_views(self, inputs: List[torch.Tensor]) -> None:
        """Raise ConfigValueError unless ``inputs`` is ``[image views]``
        followed by ``K`` tensors of transformed views, each ``(B, C, h,
        w)``, with ``K == transform_neck.num_patches`` where the neck has
        one."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ConfigValueError(
                'PIRL expects a list of views [image, transformed...] from a '
                'PIRL view transform (e.g. PIRLJigsawTransform) packed by '
                'PackInputs')
        num_patches = getattr(self.transform_neck, 'num_patches', None)
        if num_patches is not None and len(inputs) - 1 != num_patches:
            raise ConfigValueError(
                f'PIRL: the view transform gives {len(inputs) - 1} '
                f'transformed views per image but transform_neck.num_patches '
                f'is {num_patches}; set num_patches to grid_size**2 of the '
                'PIRLJigsawTransform')

    def pretext_features(
            self,
            inputs: List[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        """f(v_I) ``(B, D)`` and g(v_It) ``(B, D)``, with the backbone called
        in ``trunk_order``."""
        img = inputs[0]
        # One batched backbone call for all B * K transformed views.
        views = self.stack_views(inputs[1:])
        if self.channels_last:
            img = img.contiguous(memory_format=torch.channels_last)
            views = views.contiguous(memory_format=torch.channels_last)
        if self.trunk_order == 'transform_first':
            transform_feat = self.transform_neck(self.backbone(views))[0]
            return self.neck(self.backbone(img))[0], transform_feat
        image_feat = self.neck(self.backbone(img))[0]
        return image_feat, self.transform_neck(self.backbone(views))[0]
