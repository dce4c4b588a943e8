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


HOOK_MSG = "custom_hooks = [dict(type='BankUpdateHook')]"


def test_stage_refuses_an_uncommitted_update():
    """Without BankUpdateHook nothing commits after the step: the next
    stage_update stops with the config line to add, and writes nothing."""
    bank = MemoryBank(10, 4)
    before = bank.bank.clone()
    bank.stage_update(torch.tensor([1]), torch.ones(1, 4))
    with pytest.raises(RuntimeError) as exc:
        bank.stage_update(torch.tensor([2]), torch.ones(1, 4))
    assert HOOK_MSG in str(exc.value)
    torch.testing.assert_close(bank.bank, before)  # nothing written
    assert bank.has_pending_update and int(bank.num_updates) == 0
    bank.commit()  # the first update is still the one pending
    expect = F.normalize(0.5 * before[1] + 0.5 * torch.full((4, ), 0.5), dim=0)
    torch.testing.assert_close(bank.bank[1], expect)
    torch.testing.assert_close(bank.bank[2], before[2])
    bank.stage_update(torch.tensor([2]), torch.ones(1, 4))  # committed: ok


def _score_grad_reference(rows, idx, w):
    """d/dq of sum(w * <rows[idx[b, n]], q[b, k]>), written out by hand:
    grad[b, k] = sum_n w[b, n, k] * rows[idx[b, n]] (float64)."""
    b_, n_ = idx.shape
    k_ = w.size(2)
    grad = torch.zeros(b_, k_, rows.size(1), dtype=torch.float64)
    for b in range(b_):
        for k in range(k_):
            for n in range(n_):
                grad[b, k] += float(w[b, n, k]) * rows[idx[b, n]].double()
    return grad


@pytest.mark.parametrize('score_mode', ['gather', 'dense'])
@pytest.mark.parametrize('bank_type', ['MemoryBank', 'ShardedMemoryBank'])
def test_without_the_hook_the_update_never_reaches_the_gradients(
        bank_type, score_mode):
    """PIRL's order with no hook: loss, stage, backward, (no commit), then
    the next step. The next stage_update must be refused (it used to commit
    the pending update between that step's forward and backward, so the
    backward re-gathered updated rows), and the gradients must be those of
    the bank the forward read, checked against a hand-computed reference."""
    from pirl_plugin.models.memories import ShardedMemoryBank
    cls = dict(MemoryBank=MemoryBank, ShardedMemoryBank=ShardedMemoryBank)
    bank = cls[bank_type](12, 4, chunk_size=2, score_mode=score_mode)
    gen = torch.Generator().manual_seed(99)
    idx = torch.tensor([1, 4, 7])
    # step 1: forward, stage (as PIRL.loss does), backward; no commit
    q = torch.randn(3, 2, 4, generator=gen, requires_grad=True)
    out = bank.score(q, bank.sample_negatives(idx, 5))
    bank.stage_update(idx, torch.randn(3, 4, generator=gen))
    out.sum().backward()
    # step 2: its forward reads the bank as it is now
    before = bank.bank.clone()
    q = torch.randn(3, 2, 4, generator=gen, requires_grad=True)
    neg = bank.sample_negatives(idx, 5)
    out = bank.score(q, neg)
    with pytest.raises(RuntimeError) as exc:
        bank.stage_update(idx, torch.randn(3, 4, generator=gen))
    assert HOOK_MSG in str(exc.value)
    w = torch.randn(out.shape, generator=gen)
    (out * w).sum().backward()
    # float32 gradient against the float64 reference; a gradient against
    # the updated rows would be off by O(0.1)
    torch.testing.assert_close(
        q.grad.double(),
        _score_grad_reference(before, neg, w),
        rtol=1e-5,
        atol=1e-6)


@pytest.mark.parametrize('score_mode', ['gather', 'dense'])
@pytest.mark.parametrize('write', ['commit', 'reset', 'load_state_dict'])
def test_bank_written_between_forward_and_backward_is_refused(
        write, score_mode):
    """The scorer's backward reads the bank again: any write after its
    forward stops it with a clear error instead of a wrong gradient."""
    bank = MemoryBank(12, 4, chunk_size=2, score_mode=score_mode)
    idx = torch.tensor([0, 3])
    q = torch.randn(2, 2, 4, requires_grad=True)
    out = bank.score(q, bank.sample_negatives(idx, 6))
    state = {k: v.clone() for k, v in bank.state_dict().items()}
    if write == 'commit':
        bank.stage_update(idx, torch.randn(2, 4))
        bank.commit()
    elif write == 'reset':
        bank.reset(12)
    else:
        bank.load_state_dict(state)
    with pytest.raises(RuntimeError) as exc:
        out.sum().backward()
    assert 'between the forward pass' in str(exc.value)
    assert HOOK_MSG in str(exc.value)
    # the right order, commit after backward, works
    q.grad = None
    out = bank.score(q, bank.sample_negatives(idx, 6))
    out.sum().backward()
    bank.stage_update(idx, torch.randn(2, 4))
    bank.commit()
    assert q.grad is not None


def _draws(bank, idx, num, steps, shared=False):
    """Negatives drawn at ``steps`` successive update steps."""
    out = []
    for step in range(steps):
        bank.num_updates.fill_(step)
        out.append(bank.sample_negatives(idx, num, shared))
    return torch.stack(out)


def test_negatives_never_the_positive_and_cover_the_rest():
    bank = MemoryBank(5, 4)
    idx = torch.tensor([0, 3, 4])
    many = _draws(bank, idx, 4, 500)  # steps, B, N
    assert many.shape == (500, 3, 4)
    assert not (many == idx.view(1, -1, 1)).any()
    assert many.min() >= 0 and many.max() < 5
    for b, i in enumerate(idx.tolist()):
        assert set(many[:, b].flatten().tolist()) == set(range(5)) - {i}


def test_negatives_are_uniform():
    bank = MemoryBank(4, 2)
    draws = _draws(bank, torch.tensor([1]), 3, 3000).flatten()
    counts = torch.bincount(draws, minlength=4).float()
    assert counts[1] == 0
    freq = counts[[0, 2, 3]] / counts.sum()
    torch.testing.assert_close(
        freq, torch.full((3, ), 1 / 3), atol=0.02, rtol=0)
    shared = _draws(MemoryBank(7, 2), torch.tensor([1]), 6, 4000, True)
    freq = torch.bincount(
        shared.flatten(), minlength=7).float() / shared.numel()
    torch.testing.assert_close(
        freq, torch.full((7, ), 1 / 7), atol=0.01, rtol=0)


def test_negatives_reproducible_per_sample_and_step():
    bank = MemoryBank(1000, 4)
    a = bank.sample_negatives(torch.tensor([3, 8, 5]), 16)
    # the same sample draws the same negatives whatever its batch/rank
    b = bank.sample_negatives(torch.tensor([5, 3]), 16)
    torch.testing.assert_close(a[[2, 0]], b)
    bank.num_updates += 1
    assert not torch.equal(
        bank.sample_negatives(torch.tensor([3]), 16)[0], a[0])
    bank.num_updates -= 1
    bank.sampling_seed = 1
    assert not torch.equal(
        bank.sample_negatives(torch.tensor([3]), 16)[0], a[0])


def test_commit_counts_updates():
    bank = MemoryBank(10, 4)
    bank.stage_update(torch.tensor([1]), torch.ones(1, 4))
    bank.commit()
    assert int(bank.num_updates) == 1
    assert 'num_updates' in bank.state_dict()


def test_shared_negatives_are_one_draw_for_the_whole_batch():
    """Shared negatives: one set of N indices from all M rows, whatever the
    batch (the query's own index may be drawn: the head masks it), and a new
    set at the next update step."""
    from pirl_plugin.models.memories.counter_random import counter_randint
    bank = MemoryBank(50, 4)
    bank.sampling_seed = 5
    a = bank.sample_negatives(torch.tensor([1, 2]), 10, True)
    b = bank.sample_negatives(torch.tensor([7, 30, 44]), 10, True)
    torch.testing.assert_close(a, b)
    expect = counter_randint(50, 5, 0, torch.tensor([-1]), 10)[0]
    torch.testing.assert_close(a, expect)
    assert a.min() >= 0 and a.max() < 50
    # own indices are not excluded: the draw covers all M rows over steps
    seen = set(
        _draws(bank, torch.tensor([3]), 10, 60, True).flatten().tolist())
    assert seen == set(range(50))
    bank.num_updates.fill_(1)
    assert not torch.equal(
        bank.sample_negatives(torch.tensor([1]), 10, True), a)
    # and they are scored against the rows they name
    q = torch.randn(2, 3, 4)
    torch.testing.assert_close(
        bank.score(q, a), torch.einsum('nd,bkd->bnk', bank.bank[a], q))


def test_too_many_negatives_refused():
    bank = MemoryBank(10, 4)
    with pytest.raises(
            ValueError, match='must be smaller than the memory '
            'bank size'):
        bank.sample_negatives(torch.tensor([0]), 10)


@pytest.mark.parametrize('score_mode', ['gather', 'dense'])
@pytest.mark.parametrize('dtype', ['float32', 'float16'])
def test_scores_and_gradient_match_the_formula(dtype, score_mode):
    """out[b, n, k] = <bank[idx[b, n]], q[b, k]> and its gradient
    sum_n w[b, n, k] bank[idx[b, n]], in float64 from the formula, with
    repeated indices in a row (the scatter must add them)."""
    bank = MemoryBank(40, 8, dtype=dtype, chunk_size=2, score_mode=score_mode)
    gen = torch.Generator().manual_seed(3)
    q = torch.randn(5, 2, 8, generator=gen, requires_grad=True)
    idx = torch.randint(0, 40, (5, 7), generator=gen)
    idx[:, 1] = idx[:, 0]
    out = bank.score(q, idx)
    w = torch.randn(out.shape, generator=gen)
    (out * w).sum().backward()
    rows = bank.bank.double()
    ref = torch.zeros(5, 7, 2, dtype=torch.float64)
    ref_grad = torch.zeros(5, 2, 8, dtype=torch.float64)
    for b in range(5):
        for n in range(7):
            for k in range(2):
                ref[b, n, k] = rows[idx[b, n]] @ q[b, k].detach().double()
                ref_grad[b, k] += w[b, n, k].double() * rows[idx[b, n]]
    torch.testing.assert_close(out.double(), ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(q.grad.double(), ref_grad, rtol=1e-5, atol=1e-6)


def test_score_mode_auto_picks_dense_for_small_banks():
    """'auto': dense while M <= dense_max_ratio * N (the two paths give
    the same numbers; dense is the faster one there)."""
    bank = MemoryBank(160, 4)
    assert bank.uses_dense_scores(10) and not bank.uses_dense_scores(9)
    assert MemoryBank(160, 4, dense_max_ratio=4).uses_dense_scores(40)
    assert not MemoryBank(160, 4, dense_max_ratio=4).uses_dense_scores(39)
    assert not MemoryBank(160, 4, score_mode='gather').uses_dense_scores(100)
    assert MemoryBank(160, 4, score_mode='dense').uses_dense_scores(1)
    with pytest.raises(ValueError, match="score_mode must be one of"):
        MemoryBank(10, 4, score_mode='fast')


def _splitmix_reference(high, seed, step, key, j):
    """counter_randint's hash written out with Python integers."""
    mask = (1 << 64) - 1
    golden = 0x9E3779B97F4A7C15

    def mix(x):
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & mask
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & mask
        return x ^ (x >> 31)

    base = mix(((seed * 1000003 + step) * golden) & mask)
    per_key = mix(base ^ (((key & mask) * golden + 1) & mask))
    return (mix((per_key + j * golden) & mask) >> 1) % high


def test_counter_randint_numpy_and_torch_paths_equal_the_hash():
    """The CPU (numpy) and device (torch) implementations give the same
    draws, both equal to splitmix64 written out with Python integers
    (keys include -1, the shared-negatives key, and large indices)."""
    from pirl_plugin.models.memories import counter_random as cr
    keys = torch.tensor([-1, 0, 1, 7, 1281166, 2**40 + 3])
    for high, seed, step in [(50, 5, 0), (1281166, 0, 12345), (7, 2**20, 3)]:
        a = cr._counter_randint_numpy(high, seed, step, keys, 9)
        b = cr._counter_randint_torch(high, seed, step, keys, 9)
        assert a.dtype == b.dtype == torch.int64
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        ref = torch.tensor(
            [[_splitmix_reference(high, seed, step, k, j) for j in range(9)]
             for k in keys.tolist()])
        torch.testing.assert_close(a, ref, rtol=0, atol=0)


def test_float16_storage_halves_memory():
    b32, b16 = MemoryBank(100, 128), MemoryBank(100, 128, dtype='float16')
    assert b16.bank.element_size() * 2 == b32.bank.element_size()


@pytest.mark.parametrize('bank_type', ['MemoryBank', 'ShardedMemoryBank'])
def test_state_dict_roundtrip_and_mismatch_error(bank_type):
    from pirl_plugin.models.memories import ShardedMemoryBank
    cls = dict(MemoryBank=MemoryBank, ShardedMemoryBank=ShardedMemoryBank)
    a = cls[bank_type](20, 4)
    torch.testing.assert_close(a.bank, MemoryBank(20, 4).bank)  # same init
    a.stage_update(torch.tensor([0]), torch.ones(1, 4))
    a.commit()
    b = cls[bank_type](None, 4)  # unsized: takes the checkpoint's size
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(a.bank, b.bank)
    assert b.num_samples == 20
    c = cls[bank_type](30, 4)
    with pytest.raises(
            ValueError,
            match=r"\(20, 4\) but this run's bank has "
            r'shape \(30, 4\): the checkpoint was trained on a '
            'dataset of 20 images and the current training dataset '
            'has 30. Resume only on the dataset'):
        c.load_state_dict(a.state_dict())


def test_bad_arguments():
    with pytest.raises(ValueError, match='dtype must be one of'):
        MemoryBank(10, dtype='int8')
    with pytest.raises(ValueError, match='momentum must be in'):
        MemoryBank(10, momentum=1.0)
    with pytest.raises(RuntimeError, match='BankUpdateHook'):
        MemoryBank(None).get(torch.tensor([0]))
