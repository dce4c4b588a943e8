"""The losses against their formulas, written out by hand on 3 x 4 tensors.

The references below use plain Python floats and :mod:`math` (float64); they
never call the losses under test.
"""
import math

import pytest
import torch

from pirl_plugin.models.losses import infonce_loss, nce_loss

POS = torch.tensor([2.0, -1.0, 0.5])
NEG = torch.tensor([[0.1, -0.3, 1.2, 0.0], [2.0, 0.4, -1.5, 0.7],
                    [-0.2, 0.9, 0.3, -2.0]])
# VISSL's NCECriterion adds numpy's float32 machine epsilon.
VISSL_EPS = 1.1920928955078125e-07


def _nce_exact(pos, negs, z, m, n):
    """PIRL Eq. 3-4 / NPID: P = exp(l) / Z, h = P / (P + N/M),
    loss = -log h(pos) - sum log(1 - h(neg))."""
    p = math.exp(pos) / z
    loss = -math.log(p / (p + n / m))
    for s in negs:
        p = math.exp(s) / z
        loss -= math.log(1 - p / (p + n / m))
    return loss


def _nce_vissl(pos, negs, z, m, n, eps):
    """VISSL's NCECriterion (vissl/losses/nce_loss.py): eps in each
    denominator, -log(P_pos / (P_pos + N/M + eps))
    - sum log((N/M) / (P_neg + N/M + eps))."""
    p = math.exp(pos) / z
    loss = -math.log(p / (p + n / m + eps))
    for s in negs:
        p = math.exp(s) / z
        loss -= math.log((n / m) / (p + n / m + eps))
    return loss


def _infonce(pos, negs):
    """-log(exp(l_pos) / (exp(l_pos) + sum exp(l_neg)))."""
    denom = math.exp(pos) + sum(math.exp(s) for s in negs)
    return -math.log(math.exp(pos) / denom)


def test_nce_matches_formula():
    log_z, m = 1.3, 50
    out = nce_loss(POS, NEG, log_z, m)
    for b in range(3):
        expect = _nce_exact(POS[b].item(), NEG[b].tolist(), math.exp(log_z), m,
                            4)
        assert out[b].item() == pytest.approx(expect, rel=1e-5)


@pytest.mark.parametrize('eps', [VISSL_EPS, 1e-3])
@pytest.mark.parametrize('m', [50, 10**6])
def test_nce_with_eps_matches_vissl_form(eps, m):
    # float64, so that an eps of 1e-7 is far above the rounding
    pos, neg, log_z = POS.double(), NEG.double(), 1.3
    out = nce_loss(pos, neg, log_z, m, eps=eps)
    exact = nce_loss(pos, neg, log_z, m)
    for b in range(3):
        args = (POS[b].item(), NEG[b].tolist(), math.exp(log_z), m, 4)
        expect = _nce_vissl(*args, eps)
        assert out[b].item() == pytest.approx(expect, rel=1e-12)
        assert exact[b].item() == pytest.approx(_nce_exact(*args), rel=1e-12)
        # the option changes the value measurably (eps is not dropped)
        assert abs(expect - _nce_exact(*args)) > 1e-9


def test_nce_with_eps_float32_and_per_query_log_z():
    log_z = torch.tensor([0.5, 1.0, 2.0])
    out = nce_loss(POS, NEG, log_z, 50, eps=1e-3)
    for b in range(3):
        expect = _nce_vissl(POS[b].item(), NEG[b].tolist(),
                            math.exp(log_z[b].item()), 50, 4, 1e-3)
        assert out[b].item() == pytest.approx(expect, rel=1e-5)


def test_vissl_eps_offsets_the_loss_by_about_m_eps():
    """With ImageNet's M and N the eps of VISSL raises the loss by about
    M * eps (0.15): the offset of the loss values in VISSL's logs."""
    m, n = 1281167, 32000
    gen = torch.Generator().manual_seed(3)
    neg = torch.rand(2, n, generator=gen, dtype=torch.float64) * 4 - 2
    pos = torch.tensor([8.0, 3.0], dtype=torch.float64)
    log_z = math.log(m * neg.exp().mean().item())
    diff = (
        nce_loss(pos, neg, log_z, m, eps=VISSL_EPS) -
        nce_loss(pos, neg, log_z, m))
    torch.testing.assert_close(
        diff, torch.full_like(diff, m * VISSL_EPS), rtol=0.02, atol=0)


def test_nce_mask_drops_negatives():
    """A masked negative leaves the sum; the noise ratio stays N/M with N
    the number of drawn negatives (4 here)."""
    mask = torch.tensor([[True, True, False, True], [True, True, True, True],
                         [False, True, True, False]])
    log_z, m = 0.7, 10
    for eps in (0.0, 1e-3):
        out = nce_loss(POS.double(), NEG.double(), log_z, m, mask, eps=eps)
        unmasked = nce_loss(POS.double(), NEG.double(), log_z, m, eps=eps)
        for b in range(3):
            kept = [s for s, k in zip(NEG[b].tolist(), mask[b].tolist()) if k]
            expect = _nce_vissl(POS[b].item(), kept, math.exp(log_z), m, 4,
                                eps)
            assert out[b].item() == pytest.approx(expect, rel=1e-12)
        assert out[1].item() == pytest.approx(unmasked[1].item(), rel=1e-12)
        assert (unmasked[[0, 2]] - out[[0, 2]]).min() > 1e-3


def test_infonce_matches_formula():
    out = infonce_loss(POS, NEG)
    for b in range(3):
        expect = _infonce(POS[b].item(), NEG[b].tolist())
        assert out[b].item() == pytest.approx(expect, rel=1e-6)


def test_infonce_mask():
    mask = torch.tensor([[True, False, True, True], [True, True, True, True],
                         [False, False, True, True]])
    out = infonce_loss(POS, NEG, mask)
    unmasked = infonce_loss(POS, NEG)
    for b in range(3):
        kept = [s for s, k in zip(NEG[b].tolist(), mask[b].tolist()) if k]
        assert out[b].item() == pytest.approx(
            _infonce(POS[b].item(), kept), rel=1e-6)
    assert (unmasked[[0, 2]] - out[[0, 2]]).min() > 1e-3


@pytest.mark.parametrize('eps', [0.0, VISSL_EPS])
def test_nce_is_stable_for_large_logits(eps):
    pos = torch.tensor([80.0, -80.0])
    neg = torch.tensor([[-80.0, 90.0], [80.0, -90.0]])
    out = nce_loss(pos, neg, 0.0, 1000, eps=eps)
    assert torch.isfinite(out).all()
    for b in range(2):
        # float64 has the range for exp(90); VISSL's form (also the exact
        # one at eps = 0) has no 1 - h cancellation
        expect = _nce_vissl(pos[b].item(), neg[b].tolist(), 1.0, 1000, 2, eps)
        assert out[b].item() == pytest.approx(expect, rel=1e-5)


def test_nce_refuses_empty_and_bad_eps():
    with pytest.raises(ValueError, match='at least one negative'):
        nce_loss(POS, NEG[:, :0], 0.0, 10)
    for eps in (-1e-7, float('nan'), float('inf')):
        with pytest.raises(ValueError, match='eps must be finite and >= 0'):
            nce_loss(POS, NEG, 0.0, 10, eps=eps)
