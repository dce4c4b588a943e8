"""The loss path shared by :class:`PIRL` and :class:`PIRLMultiTransform`."""
from typing import Any, Dict, List, Sequence, Tuple, Union

import torch
from mmengine.logging import MessageHub
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

TransformFeats = Union[torch.Tensor, List[torch.Tensor]]


def replicated_state_buffers(model: nn.Module) -> List[str]:
    """Names of the buffers of ``model.memory_bank`` and ``model.head``.

    They are kept in step across ranks by the bank and the head themselves
    (all-gathered updates, all-reduced estimates; a sharded bank holds a
    different shard on each rank), so DDP must never broadcast them: PIRL
    lists them in ``_ddp_params_and_buffers_to_ignore``, and with
    ``broadcast_buffers=True`` DDP then broadcasts only the backbone's and
    necks' buffers (BatchNorm statistics).
    """
    names = []
    for prefix in ('memory_bank', 'head'):
        module = getattr(model, prefix, None)
        if module is not None:
            names += [f'{prefix}.{n}' for n, _ in module.named_buffers()]
    return names


class BasePIRL(BaseSelfSupervisor):
    """A PIRL model: image features f(v_I), transformed-view features,
    an NCE head against ``memory_bank`` and the bank's staged update.

    Built in this order (the order of the random initialisation): the
    backbone, ``neck`` (head f) and the loss ``head``, the transformed-view
    heads (:meth:`build_transform_heads`), then ``memory_bank``, whose and
    the head's buffers DDP must not broadcast
    (:func:`replicated_state_buffers`). Subclasses implement
    :meth:`build_transform_heads`, :meth:`check_views` and
    :meth:`pretext_features`; :meth:`loss` is the same for all.

    Args:
        backbone (dict): backbone config.
        neck (dict): head f over the image view.
        transform_heads: the subclass's config of its transformed-view
            heads, passed to :meth:`build_transform_heads`.
        head (dict): the loss head config.
        memory_bank (dict): :class:`MemoryBank` config.
        **kwargs: ``pretrained``, ``data_preprocessor`` and ``init_cfg`` of
            MMPretrain's ``BaseSelfSupervisor``.
    """

    def __init__(self, backbone: dict, neck: dict, transform_heads: Any,
                 head: dict, memory_bank: dict, **kwargs) -> None:
        super().__init__(backbone=backbone, neck=neck, head=head, **kwargs)
        self.build_transform_heads(transform_heads)
        self.memory_bank = MODELS.build(memory_bank)
        # DDP reads this list when it wraps the model (see
        # replicated_state_buffers).
        self._ddp_params_and_buffers_to_ignore = replicated_state_buffers(self)

    def build_transform_heads(self, cfg: Any) -> None:
        """Build the heads of the transformed views from ``cfg``, or raise
        ValueError naming the setting."""
        raise NotImplementedError

    @staticmethod
    def sample_indices(data_samples: List[DataSample],
                       device: torch.device) -> torch.Tensor:
        """The dataset index of each sample (``sample_idx``, set by
        MMEngine's ``BaseDataset`` and packed by ``PackInputs``)."""
        try:
            idx = [int(s.sample_idx) for s in data_samples]
        except AttributeError:
            raise KeyError(
                'PIRL needs the dataset index of every sample: keep '
                "'sample_idx' in PackInputs' meta_keys (the default) and use "
                'a dataset derived from mmengine BaseDataset') from None
        return torch.tensor(idx, dtype=torch.long, device=device)

    @staticmethod
    def stack_views(views: Sequence[torch.Tensor]) -> torch.Tensor:
        """``K`` view tensors ``(B, C, h, w)`` as one ``(B * K, C, h, w)``
        batch, sample-major (the K views of one image are adjacent)."""
        return torch.stack(list(views), dim=1).flatten(0, 1)

    def check_views(self, inputs: List[torch.Tensor]) -> None:
        """Raise ValueError if ``inputs`` is not the expected list of
        views."""
        raise NotImplementedError

    def pretext_features(
            self,
            inputs: List[torch.Tensor]) -> Tuple[torch.Tensor, TransformFeats]:
        """f(v_I) ``(B, D)`` and the transformed views' features, in the
        form the loss head takes (a tensor, or one per transformation)."""
        raise NotImplementedError

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Compute the PIRL loss of a batch and stage the bank update.

        The staged update is written by :class:`BankUpdateHook` after the
        optimiser step; staging refuses to run over an update that nothing
        committed (see :meth:`MemoryBank.stage_update`), so PIRL trains only
        with ``custom_hooks = [dict(type='BankUpdateHook')]``.

        Args:
            inputs (list[Tensor]): ``[image views (B, C, H, W)]`` followed by
                the transformed views (see :meth:`check_views`).
            data_samples (list[DataSample]): carry ``sample_idx``.

        Returns:
            dict[str, Tensor]: the loss terms of the head.
        """
        self.check_views(inputs)
        idx = self.sample_indices(data_samples, inputs[0].device)
        image_feat, transform_feat = self.pretext_features(inputs)
        losses = self.head.loss(transform_feat, image_feat, idx,
                                self.memory_bank)
        self._check_finite(losses)
        self.memory_bank.stage_update(idx, image_feat)
        return losses

    @staticmethod
    def _check_finite(losses: Dict[str, torch.Tensor]) -> None:
        """Stop before a NaN/inf loss reaches the bank or the weights."""
        for name, value in losses.items():
            if 'loss' in name and not torch.isfinite(value).all():
                it = MessageHub.get_current_instance().get_info('iter')
                raise FloatingPointError(
                    f'PIRL: loss term {name!r} is {value.item()} at '
                    f'iteration {it}. Stopped before the memory bank and '
                    'weights were updated; the last checkpoint is intact. '
                    'Lower the learning rate, raise the temperature, or try '
                    'fp32 instead of --amp, then resume from the last '
                    'checkpoint.')
