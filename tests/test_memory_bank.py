"""Memory bank semantics."""
import pytest
import torch
import torch.nn.functional as F

from pirl_plugin.models.memories import MemoryBank


def test_reset_is_unit_norm_and_identical_for_the_seed():
    a, b = MemoryBank(100, 8), MemoryBank(100, 8)
    torch.testing.assert_close(a.bank, b.bank)
    torch.testing.assert_close(a.bank.norm(dim=1), torch.ones(100))
    c = MemoryBank(100, 8, init_seed=1)
    assert not torch.allclose(a.bank, c.bank)


def test_update_rule_and_exact_indices():
    bank = MemoryBank(10, 4, momentum=0.5)
    before = bank.bank.clone()
    idx = torch.tensor([2, 7])
    feats = torch.tensor([[3.0, 0, 0, 0], [0, 0, 0, -2.0]])
    bank.stage_update(idx, feats)
    torch.testing.assert_close(bank.bank, before)  # nothing before commit
    stats = bank.commit()
    f = F.normalize(feats, dim=1)
    expect = F.normalize(0.5 * before[idx] + 0.5 * f, dim=1)
    torch.testing.assert_close(bank.bank[idx], expect)
    untouched = torch.ones(10, dtype=torch.bool)
    untouched[idx] = False
    torch.testing.assert_close(bank.bank[untouched], before[untouched])
    assert stats['bank_feat_sim'] == pytest.approx(
        (before[idx] * f).sum(1).mean().item(), abs=1e-6)
    assert bank.commit() == {}  # committed once


def test_next_stage_commits_a_pending_update():
    bank = MemoryBank(10, 4)
    before = bank.bank.clone()
    bank.stage_update(torch.tensor([1]), torch.ones(1, 4))
    bank.stage_update(torch.tensor([2]), torch.ones(1, 4))
    expect = F.normalize(0.5 * before[1] + 0.5 * torch.full((4, ), 0.5),
                         dim=0)
    torch.testing.assert_close(bank.bank[1], expect)
    torch.testing.assert_close(bank.bank[2], before[2])
    assert bank.has_pending_update


def test_negatives_never_the_positive_and_cover_the_rest():
    bank = MemoryBank(5, 4)
    idx = torch.tensor([0, 3, 4])
    torch.manual_seed(0)
    neg = bank.sample_negatives(idx, 4, shared=False)
    assert neg.shape == (3, 4)
    big = bank.sample_negatives(idx.repeat_interleave(1), 4)
    for _ in range(50):
        neg = bank.sample_negatives(idx, 4)
        assert not (neg == idx.view(-1, 1)).any()
        assert neg.min() >= 0 and neg.max() < 5
    many = torch.cat([bank.sample_negatives(idx, 4) for _ in range(500)])
    for b, i in enumerate(idx.tolist()):
        seen = set(many[b::3].flatten().tolist())
        assert seen == set(range(5)) - {i}
    assert big.shape == (3, 4)


def test_negatives_are_uniform():
    bank = MemoryBank(4, 2)
    torch.manual_seed(0)
    neg = bank.sample_negatives(torch.tensor([1]), 3, shared=False)
    counts = torch.bincount(
        torch.cat([bank.sample_negatives(torch.tensor([1]), 3).flatten()
                   for _ in range(3000)]), minlength=4).float()
    assert counts[1] == 0
    freq = counts[[0, 2, 3]] / counts.sum()
    torch.testing.assert_close(freq, torch.full((3, ), 1 / 3), atol=0.02,
                               rtol=0)
    assert neg.shape == (1, 3)


def test_shared_negatives_shape():
    bank = MemoryBank(50, 4)
    assert bank.sample_negatives(torch.tensor([1, 2]), 10, True).shape == (10, )


def test_too_many_negatives_refused():
    bank = MemoryBank(10, 4)
    with pytest.raises(ValueError, match='must be smaller than the memory '
                       'bank size'):
        bank.sample_negatives(torch.tensor([0]), 10)


@pytest.mark.parametrize('dtype', ['float32', 'float16'])
def test_chunked_scores_and_gradient_match_dense(dtype):
    bank = MemoryBank(40, 8, dtype=dtype, chunk_size=2)
    q = torch.randn(5, 2, 8, requires_grad=True)
    idx = torch.randint(0, 40, (5, 7))
    out = bank.score(q, idx)
    w = torch.randn_like(out)
    (out * w).sum().backward()
    q2 = q.detach().clone().requires_grad_(True)
    dense = torch.einsum('bnd,bkd->bnk', bank.bank[idx].float(), q2)
    (dense * w).sum().backward()
    torch.testing.assert_close(out, dense)
    torch.testing.assert_close(q.grad, q2.grad)


def test_float16_storage_halves_memory():
    b32, b16 = MemoryBank(100, 128), MemoryBank(100, 128, dtype='float16')
    assert b16.bank.element_size() * 2 == b32.bank.element_size()


def test_state_dict_roundtrip_and_mismatch_error():
    a = MemoryBank(20, 4)
    a.stage_update(torch.tensor([0]), torch.ones(1, 4))
    a.commit()
    b = MemoryBank(None, 4)  # unsized: takes the checkpoint's size
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(a.bank, b.bank)
    c = MemoryBank(30, 4)
    with pytest.raises(ValueError, match='dataset of 20 images and the '
                       'current training dataset has 30'):
        c.load_state_dict(a.state_dict())


def test_bad_arguments():
    with pytest.raises(ValueError, match='dtype must be one of'):
        MemoryBank(10, dtype='int8')
    with pytest.raises(ValueError, match='momentum must be in'):
        MemoryBank(10, momentum=1.0)
    with pytest.raises(RuntimeError, match='MemoryBankHook'):
        MemoryBank(None).get(torch.tensor([0]))
