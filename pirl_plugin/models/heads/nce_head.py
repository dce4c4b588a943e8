"""PIRL's loss head: NCE (or InfoNCE) against a memory bank."""
import math
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from ...utils.config_errors import ConfigValueError, check_choice, check_number
from ..losses import infonce_loss, nce_loss
from ..memories.negative_sampling import sample_negatives_vissl
from .partition_function import PartitionFunctionMixin

LOSS_TYPES = ('nce', 'infonce')
NEGATIVE_SAMPLING = ('paper', 'vissl')


@MODELS.register_module()
class NCEHead(PartitionFunctionMixin, BaseModule):
    """The PIRL objective (Eq. 5) over a memory bank.

    ``L = lam * L(m_I, g(v_It)) + (1 - lam) * L(m_I, f(v_I))`` where ``m_I``
    is the image's bank entry (the positive), the negatives are ``N`` other
    bank entries drawn uniformly at random, similarities are cosine
    similarities divided by ``tau`` and ``L`` is either NCE (the paper) or
    InfoNCE. Both terms share the same negatives (unless
    ``negative_sampling='vissl'``).

    For NCE the partition function ``Z`` of each term is estimated by Monte
    Carlo at every iteration, ``Z = M * mean(exp(s / tau))`` over the
    batch's ``B x N`` negatives (averaged across ranks; 1M samples at B=32,
    N=32,000), optionally smoothed with ``z_momentum``. The estimate is a
    registered buffer, so it survives checkpoints.

    The default differs from VISSL's frozen Z (``frozen_z=True``
    reproduces it); why: docs/design.md, "NCE: the partition function Z".

    Args:
        loss_type (str): ``'nce'`` (default, the paper) or ``'infonce'``.
        temperature (float): tau, > 0. Defaults to 0.07.
        num_negatives (int): N, negatives per data point. Defaults to 32000.
        loss_lambda (float): lam in [0, 1], weight of the transformed-view
            term. 0 gives NPID, 1 uses only the transformed view.
            Defaults to 0.5.
        shared_negatives (bool): draw one set of N negatives for the whole
            batch instead of one set per data point. Much cheaper (one
            ``N x D`` gather and a matrix product instead of ``B x N`` row
            gathers) but the batch's data points are no longer scored
            against independent negatives, and a drawn index equal to a
            query's own index is masked out, so a query sees
            ``N - (number of hits)`` negatives. Defaults to False (paper).
        z_momentum (float): weight of the previous estimate of Z when
            smoothing it across iterations, in [0, 1). Defaults to 0 (the
            current batch's estimate).
        eps (float): NCE only: a constant added to each denominator of the
            posterior, >= 0 (see :func:`~pirl_plugin.models.losses.nce_loss`).
            0 (default) is the exact formula. VISSL adds the float32 machine
            epsilon, ``torch.finfo(torch.float32).eps`` (about 1.19e-7), so
            its logged NCE losses are higher by about ``M * eps`` (0.15 on
            ImageNet); set that value to reproduce them. The gradients
            barely change while eps is much smaller than ``N / M`` (VISSL's
            is 5e-6 of it on ImageNet).
        frozen_z (bool): NCE only: VISSL's partition function
            (``norm_constant: -1``): at the first forward pass Z is set to
            ``M`` times the mean of ``exp(s / tau)`` over the first term's
            ``B x (1 + N)`` positive and negative scores (the mean of the
            ranks' means), then kept for the rest of the run and used by
            every term. It is the ``z`` buffer, so a resumed run keeps the
            checkpoint's value. Excludes ``z_momentum``. Defaults to False
            (the per-iteration estimate above).
        negative_sampling (str): ``'paper'`` (default): the negatives of
            :meth:`MemoryBank.sample_negatives` (never the positive, one
            draw shared by the terms). ``'vissl'``: VISSL's rule, with
            replacement over all ``M`` entries (the positive may be drawn
            and is then scored as a negative) and a separate draw for each
            term (:func:`~pirl_plugin.models.memories.negative_sampling.`
            ``sample_negatives_vissl``). Excludes ``shared_negatives``.
        init_cfg (dict, optional): initialisation config. Defaults to None.
    """

    def __init__(self,
                 loss_type: str = 'nce',
                 temperature: float = 0.07,
                 num_negatives: int = 32000,
                 loss_lambda: float = 0.5,
                 shared_negatives: bool = False,
                 z_momentum: float = 0.0,
                 eps: float = 0.0,
                 frozen_z: bool = False,
                 negative_sampling: str = 'paper',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('temperature', temperature),
                            ('loss_lambda', loss_lambda), ('num_negatives',
                                                           num_negatives),
                            ('z_momentum', z_momentum), ('eps', eps)):
            check_number('NCEHead', name, value)
        check_choice('NCEHead', 'loss_type', loss_type, LOSS_TYPES)
        if not temperature > 0:
            raise ConfigValueError(
                f'NCEHead temperature must be > 0, got {temperature}',
                'temperature')
        if not 0.0 <= loss_lambda <= 1.0:
            raise ConfigValueError(
                f'NCEHead loss_lambda must be in [0, 1], got {loss_lambda}',
                'loss_lambda')
        if int(num_negatives) != num_negatives or num_negatives < 1:
            raise ConfigValueError(
                'NCEHead num_negatives must be a positive integer, got '
                f'{num_negatives}', 'num_negatives')
        if not 0.0 <= z_momentum < 1.0:
            raise ConfigValueError(
                f'NCEHead z_momentum must be in [0, 1), got {z_momentum}',
                'z_momentum')
        if not (eps >= 0 and math.isfinite(eps)):
            raise ConfigValueError(
                f'NCEHead eps must be finite and >= 0 (0: the exact NCE '
                f'formula; VISSL uses float32 epsilon, 1.1920929e-07), got '
                f'{eps}', 'eps')
        self._check_vissl_options(loss_type, z_momentum, shared_negatives,
                                  frozen_z, negative_sampling)
        self.frozen_z = bool(frozen_z)
        self.negative_sampling = negative_sampling
        self.loss_type = loss_type
        self.temperature = temperature
        self.num_negatives = int(num_negatives)
        self.loss_lambda = loss_lambda
        self.shared_negatives = shared_negatives
        self.z_momentum = z_momentum
        self.eps = float(eps)
        # Running Z of the two terms (transformed view, image view); 0 means
        # "not estimated yet".
        self.register_buffer('z', torch.zeros(2, dtype=torch.float64))

    @staticmethod
    def _check_vissl_options(loss_type: str, z_momentum: float,
                             shared_negatives: bool, frozen_z: bool,
                             negative_sampling: str) -> None:
        """Refuse exact-VISSL options that contradict other settings."""
        check_choice('NCEHead', 'negative_sampling', negative_sampling,
                     NEGATIVE_SAMPLING)
        if negative_sampling == 'vissl' and shared_negatives:
            raise ConfigValueError(
                "NCEHead: negative_sampling='vissl' draws per data point and "
                'per term; set shared_negatives=False', 'shared_negatives')
        if frozen_z and (loss_type != 'nce' or z_momentum):
            raise ConfigValueError(
                "NCEHead frozen_z=True needs loss_type='nce' and "
                f'z_momentum=0 (got {loss_type!r}, {z_momentum}): the frozen '
                'Z replaces the running estimate', 'frozen_z')

    def _negative_logits(
            self, q: torch.Tensor, idx: torch.Tensor,
            memory_bank) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """``(B, N, K)`` logits of the ``K`` queries ``q`` (``(B, K, D)``)
        against their negatives, and the mask of shared draws (or None)."""
        if self.negative_sampling == 'vissl':
            k = q.size(1)
            scores = [
                memory_bank.score(
                    q[:, j:j + 1],
                    sample_negatives_vissl(memory_bank, idx,
                                           self.num_negatives, j, k))
                for j in range(k)
            ]
            return torch.cat(scores, dim=2) / self.temperature, None
        neg_idx = memory_bank.sample_negatives(idx, self.num_negatives,
                                               self.shared_negatives)
        neg_logits = memory_bank.score(q, neg_idx) / self.temperature
        if neg_idx.dim() == 1:
            return neg_logits, neg_idx.view(1, -1) != idx.view(-1, 1)
        return neg_logits, None

    def _check_features(self, feats: Dict[str, torch.Tensor],
                        image_feat: torch.Tensor, memory_bank) -> None:
        """Refuse transformed-view features whose shape differs from
        f(v_I)'s, and features whose size differs from the bank's."""
        name = type(self).__name__
        for key, feat in feats.items():
            if feat.shape != image_feat.shape:
                raise ValueError(
                    f'{name}: {key} has shape {tuple(feat.shape)} but f(v_I) '
                    f'has shape {tuple(image_feat.shape)}')
        if image_feat.size(1) != memory_bank.feat_dim:
            raise ValueError(
                f'{name}: the necks output {image_feat.size(1)}-d features '
                f'but the memory bank stores {memory_bank.feat_dim}-d '
                'vectors; set memory_bank.feat_dim to the necks\' '
                'out_channels')

    def _terms(
            self, feats: List[torch.Tensor], idx: torch.Tensor,
            memory_bank) -> Tuple[List[torch.Tensor], Optional[torch.Tensor]]:
        """The unweighted loss of each of ``K`` features ``(B, D)`` against
        the bank entries ``m_I`` at ``idx``, scored against the same
        negatives (one draw per feature with ``negative_sampling='vissl'``),
        in float32 even under AMP.

        Returns:
            tuple: the ``K`` mean losses, and the ``K`` partition-function
            estimates for NCE (None for InfoNCE).
        """
        # The bank and the loss stay in float32 under AMP.
        with torch.autocast(device_type=feats[0].device.type, enabled=False):
            q = F.normalize(torch.stack(feats, dim=1).float(), dim=2)
            pos = memory_bank.get(idx)  # B, D
            pos_logits = (q * pos.unsqueeze(1)).sum(-1) / self.temperature
            neg_logits, neg_mask = self._negative_logits(q, idx, memory_bank)
            if self.loss_type == 'nce' and self.frozen_z:
                z = self._frozen_z(pos_logits[:, 0].detach(),
                                   neg_logits[..., 0].detach(),
                                   memory_bank.num_samples)
            elif self.loss_type == 'nce':
                z = self.update_z(neg_logits.detach(), neg_mask,
                                  memory_bank.num_samples)
            if self.loss_type == 'nce':
                log_z = z.log().float()
                return [
                    nce_loss(
                        pos_logits[:, k],
                        neg_logits[..., k],
                        log_z[k],
                        memory_bank.num_samples,
                        neg_mask,
                        eps=self.eps).mean() for k in range(len(feats))
                ], z
            return [
                infonce_loss(pos_logits[:, k], neg_logits[..., k],
                             neg_mask).mean() for k in range(len(feats))
            ], None

    def loss(self, transform_feat: torch.Tensor, image_feat: torch.Tensor,
             idx: torch.Tensor, memory_bank) -> Dict[str, torch.Tensor]:
        """Compute the PIRL loss.

        Args:
            transform_feat (Tensor): g(v_It), ``(B, D)``.
            image_feat (Tensor): f(v_I), ``(B, D)``.
            idx (Tensor): dataset indices of the batch, ``(B,)``.
            memory_bank (MemoryBank): the bank holding m_I.

        Returns:
            dict[str, Tensor]: ``loss_transform`` (lam times the transformed
            view term) and ``loss_image`` ((1 - lam) times the image term),
            which MMEngine sums and logs separately, plus ``z_transform`` and
            ``z_image`` (the partition-function estimates, NCE only).
        """
        self._check_features({'g(v_It)': transform_feat}, image_feat,
                             memory_bank)
        terms, z = self._terms([transform_feat, image_feat], idx, memory_bank)
        losses = {}
        if z is not None:
            losses['z_transform'] = z[0].float()
            losses['z_image'] = z[1].float()
        losses['loss_transform'] = self.loss_lambda * terms[0]
        losses['loss_image'] = (1 - self.loss_lambda) * terms[1]
        return losses
