"""The losses against their formulas, written out by hand on 3 x 4 tensors."""
import math

import pytest
import torch

from pirl_plugin.models.losses import infonce_loss, nce_loss

POS = torch.tensor([2.0, -1.0, 0.5])
NEG = torch.tensor([[0.1, -0.3, 1.2, 0.0],
                    [2.0, 0.4, -1.5, 0.7],
                    [-0.2, 0.9, 0.3, -2.0]])


def test_nce_matches_formula():
    log_z, m = 1.3, 50
    n = NEG.size(1)
    out = nce_loss(POS, NEG, log_z, m)
    z = math.exp(log_z)
    for b in range(3):
        # h = P / (P + N/M), P = exp(l) / Z  (PIRL Eq. 3, NPID)
        p_pos = math.exp(POS[b]) / z
        expect = -math.log(p_pos / (p_pos + n / m))
        for j in range(n):
            p = math.exp(NEG[b, j]) / z
            expect -= math.log(1 - p / (p + n / m))
        assert out[b].item() == pytest.approx(expect, rel=1e-5)


def test_nce_mask_drops_negatives():
    mask = torch.tensor([[True, True, False, True]] * 3)
    out = nce_loss(POS, NEG, 0.0, 10, mask)
    ref = nce_loss(POS, NEG[:, [0, 1, 3]], 0.0, 10 * 3 / 4)
    # same terms; only the noise ratio N/M is the same by construction
    torch.testing.assert_close(out, ref)


def test_infonce_matches_formula():
    out = infonce_loss(POS, NEG)
    for b in range(3):
        denom = math.exp(POS[b]) + sum(math.exp(v) for v in NEG[b].tolist())
        expect = -math.log(math.exp(POS[b]) / denom)
        assert out[b].item() == pytest.approx(expect, rel=1e-6)


def test_infonce_mask():
    mask = torch.tensor([[True, False, True, True]] * 3)
    out = infonce_loss(POS, NEG, mask)
    torch.testing.assert_close(out, infonce_loss(POS, NEG[:, [0, 2, 3]]))


def test_nce_is_stable_for_large_logits():
    out = nce_loss(torch.tensor([80.0]), torch.tensor([[-80.0, 90.0]]), 0.0,
                   1000)
    assert torch.isfinite(out).all()


def test_nce_refuses_empty():
    with pytest.raises(ValueError, match='at least one negative'):
        nce_loss(POS, NEG[:, :0], 0.0, 10)
