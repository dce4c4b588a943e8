"""Memory-bank contrastive losses as pure functions of tensors.

Both functions take the similarity logits ``s / tau`` of each query with its
positive bank entry and with its negatives, and return one loss per query, so
that a test can check them against the formulas on a 3 x 4 example.
"""
import math
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F


def nce_loss(pos_logits: torch.Tensor,
             neg_logits: torch.Tensor,
             log_z: Union[float, torch.Tensor],
             num_data: int,
             neg_mask: Optional[torch.Tensor] = None,
             eps: float = 0.0) -> torch.Tensor:
    """Noise-contrastive estimation loss of PIRL (Eq. 3-4) and NPID.

    The model probability of bank entry ``i`` for query ``v`` is
    ``P(i|v) = exp(s(v, m_i) / tau) / Z`` and the noise distribution is
    uniform over the ``M = num_data`` bank entries, with ``N`` noise samples
    per data point. The posterior that a pair comes from the data is

    ``h(i, v) = P(i|v) / (P(i|v) + N / M)``

    and the loss of one query is ``-log h(pos) - sum_n log(1 - h(neg_n))``.
    Writing ``a = s / tau - log Z - log(N / M)``, ``h = sigmoid(a)``, so the
    loss is evaluated stably as ``softplus(-a_pos) + sum_n softplus(a_n)``.

    With ``eps > 0`` it is the form of VISSL's ``NCECriterion``
    (``vissl/losses/nce_loss.py`` in facebookresearch/vissl, used by its
    ``nce_loss_with_memory``), which adds ``eps`` to each denominator:

    ``-log(P_pos / (P_pos + N/M + eps))
    - sum_n log((N/M) / (P_n + N/M + eps))``.

    Evaluated stably with ``c = N/M + eps``: the positive term is
    ``softplus(-(s_pos / tau - log Z - log c))`` and each negative term is
    ``softplus(s_n / tau - log Z - log c) + log1p(eps / (N/M))``. Every
    negative then adds about ``eps * M / N`` to the loss, about ``M * eps``
    in all (0.15 for ImageNet with VISSL's eps), the offset of the loss
    values VISSL logs.

    Args:
        pos_logits (Tensor): ``s(v, m_pos) / tau``, shape ``(B,)``.
        neg_logits (Tensor): ``s(v, m_neg) / tau``, shape ``(B, N)``.
        log_z (float | Tensor): log of the partition function ``Z``; a
            scalar, or a tensor broadcastable to ``(B,)``.
        num_data (int): the number of bank entries ``M``.
        neg_mask (Tensor, optional): boolean ``(B, N)``, False where a drawn
            negative must be ignored (it is the query's own positive); the
            noise ratio stays ``N / M`` with ``N`` the number of drawn
            negatives. Defaults to None (all negatives are used).
        eps (float): added to each denominator, >= 0. 0 (default) is the
            exact formula above; VISSL's value,
            ``torch.finfo(torch.float32).eps`` (about 1.19e-7), reproduces
            the loss values VISSL logs.

    Returns:
        Tensor: the loss of each query, shape ``(B,)``.
    """
    noise_ratio = _nce_noise_ratio(neg_logits.size(-1), num_data, eps)
    pos_term, neg_terms = _nce_terms(pos_logits, neg_logits, log_z,
                                     noise_ratio, eps)
    if neg_mask is not None:
        neg_terms = neg_terms * neg_mask
    return pos_term + neg_terms.sum(dim=-1)


def _nce_noise_ratio(num_neg: int, num_data: int, eps: float) -> float:
    """Check :func:`nce_loss`'s sizes and ``eps``; return ``N / M``.

    Args:
        num_neg (int): negatives per query ``N``.
        num_data (int): bank entries ``M``.
        eps (float): the denominator offset.

    Returns:
        float: the noise ratio ``N / M``.
    """
    if num_data <= 0 or num_neg <= 0:
        raise ValueError(f'nce_loss needs num_data > 0 and at least one '
                         f'negative, got num_data={num_data}, N={num_neg}')
    if not (eps >= 0 and math.isfinite(eps)):
        raise ValueError(f'nce_loss eps must be finite and >= 0, got {eps}')
    return num_neg / num_data  # N/M = N * P_noise


def _nce_terms(pos_logits: torch.Tensor, neg_logits: torch.Tensor,
               log_z: Union[float, torch.Tensor], noise_ratio: float,
               eps: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """The positive term and the unmasked negative terms of
    :func:`nce_loss`, evaluated with ``softplus``.

    Args:
        pos_logits (Tensor): ``(B,)`` positive logits.
        neg_logits (Tensor): ``(B, N)`` negative logits.
        log_z (float | Tensor): log of the partition function.
        noise_ratio (float): ``N / M``.
        eps (float): the denominator offset.

    Returns:
        tuple[Tensor, Tensor]: ``(B,)`` positive and ``(B, N)`` negative
        terms.
    """
    log_z = torch.as_tensor(
        log_z, dtype=pos_logits.dtype, device=pos_logits.device)
    shift = log_z + math.log(noise_ratio + eps)
    pos_term = F.softplus(-(pos_logits - shift))
    neg_terms = F.softplus(neg_logits -
                           shift.unsqueeze(-1) if shift.dim() else neg_logits -
                           shift)
    if eps:
        neg_terms = neg_terms + math.log1p(eps / noise_ratio)
    return pos_term, neg_terms


def infonce_loss(pos_logits: torch.Tensor,
                 neg_logits: torch.Tensor,
                 neg_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Softmax cross-entropy over ``[positive, negatives]`` (InfoNCE).

    ``L = -log(exp(l_pos) / (exp(l_pos) + sum_n exp(l_n)))``.

    Args:
        pos_logits (Tensor): ``s(v, m_pos) / tau``, shape ``(B,)``.
        neg_logits (Tensor): ``s(v, m_neg) / tau``, shape ``(B, N)``.
        neg_mask (Tensor, optional): boolean ``(B, N)``, False where a drawn
            negative must be ignored. Defaults to None.

    Returns:
        Tensor: the loss of each query, shape ``(B,)``.
    """
    if neg_mask is not None:
        neg_logits = neg_logits.masked_fill(~neg_mask, float('-inf'))
    logits = torch.cat([pos_logits.unsqueeze(-1), neg_logits], dim=-1)
    return torch.logsumexp(logits, dim=-1) - pos_logits
