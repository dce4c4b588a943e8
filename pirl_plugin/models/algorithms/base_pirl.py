"""The loss path shared by :class:`PIRL` and :class:`PIRLMultiTransform`."""
from typing import Dict, List, Sequence, Tuple, Union

import torch
from mmengine.logging import MessageHub
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.structures import DataSample

TransformFeats = Union[torch.Tensor, List[torch.Tensor]]


class BasePIRL(BaseSelfSupervisor):
    """A PIRL model: image features f(v_I), transformed-view features,
    an NCE head against ``memory_bank`` and the bank's staged update.

    Subclasses build ``neck`` (head f), their transformed-view heads, the
    loss ``head`` and ``memory_bank``, and implement :meth:`check_views`
    and :meth:`pretext_features`; :meth:`loss` is the same for all.
    """

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
