"""NCEHead: the PIRL objective, the partition-function estimate, errors."""
import pytest
import torch
import torch.nn.functional as F

from pirl_plugin.models.heads import NCEHead
from pirl_plugin.models.losses import infonce_loss, nce_loss
from pirl_plugin.models.memories import MemoryBank


def _inputs(seed=0, b=4, d=8):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, d, generator=g), torch.randn(b, d, generator=g),
            torch.tensor([0, 5, 9, 13]))


def _reference(head, bank, tf, imf, idx, neg_idx, log_z=None):
    """The loss written from the paper's definitions, independently."""
    terms = []
    for k, feat in enumerate((tf, imf)):
        q = F.normalize(feat, dim=1)
        pos = (q * bank.bank[idx]).sum(1) / head.temperature
        neg = torch.einsum('bnd,bd->bn', bank.bank[neg_idx], q) / \
            head.temperature
        if head.loss_type == 'nce':
            terms.append(nce_loss(pos, neg, log_z[k], bank.num_samples).mean())
        else:
            terms.append(infonce_loss(pos, neg).mean())
    return head.loss_lambda * terms[0], (1 - head.loss_lambda) * terms[1]


@pytest.mark.parametrize('loss_type', ['nce', 'infonce'])
@pytest.mark.parametrize('lam', [0.0, 0.5, 1.0])
def test_loss_matches_reference(loss_type, lam):
    bank = MemoryBank(20, 8)
    head = NCEHead(loss_type, temperature=0.1, num_negatives=6,
                   loss_lambda=lam)
    tf, imf, idx = _inputs()
    out = head.loss(tf, imf, idx, bank)
    neg_idx = bank.sample_negatives(idx, 6)
    log_z = head.z.log() if loss_type == 'nce' else None
    ref_t, ref_i = _reference(head, bank, tf, imf, idx, neg_idx, log_z)
    torch.testing.assert_close(out['loss_transform'], ref_t.float())
    torch.testing.assert_close(out['loss_image'], ref_i.float())
    if lam == 0.0:
        assert out['loss_transform'].item() == 0.0
    if lam == 1.0:
        assert out['loss_image'].item() == 0.0


def test_partition_function_first_batch_then_running_average():
    bank = MemoryBank(20, 8)
    head = NCEHead('nce', temperature=0.1, num_negatives=6, z_momentum=0.9)
    tf, imf, idx = _inputs()
    head.loss(tf, imf, idx, bank)
    neg_idx = bank.sample_negatives(idx, 6)
    z1 = []
    for feat in (tf, imf):
        q = F.normalize(feat, dim=1)
        s = torch.einsum('bnd,bd->bn', bank.bank[neg_idx], q) / 0.1
        z1.append(20 * s.double().exp().mean())  # Z = M * E[exp(s / tau)]
    torch.testing.assert_close(head.z, torch.stack(z1))
    tf2, imf2, _ = _inputs(seed=7)
    head.loss(tf2, imf2, idx, bank)
    neg_idx = bank.sample_negatives(idx, 6)
    for k, feat in enumerate((tf2, imf2)):
        q = F.normalize(feat, dim=1)
        s = torch.einsum('bnd,bd->bn', bank.bank[neg_idx], q) / 0.1
        z_batch = 20 * s.double().exp().mean()
        assert head.z[k].item() == pytest.approx(
            0.9 * z1[k].item() + 0.1 * z_batch.item(), rel=1e-9)
    assert 'z' in head.state_dict()  # checkpointed


def test_shared_negatives_mask_the_positive():
    bank = MemoryBank(8, 4)
    head = NCEHead('infonce', num_negatives=7, shared_negatives=True)
    tf, imf, _ = _inputs(d=4)
    idx = torch.tensor([0, 1, 2, 3])
    out = head.loss(tf, imf, idx, bank)
    assert torch.isfinite(out['loss_transform'])
    # with the positive masked, a perfect query has a finite, small loss
    perfect = bank.bank[idx].clone()
    out = head.loss(perfect * 5, perfect * 5, idx, bank)
    assert torch.isfinite(out['loss_image'])


def test_gradient_flows_to_both_features():
    bank = MemoryBank(30, 8)
    head = NCEHead('nce', num_negatives=10)
    tf, imf, idx = _inputs()
    tf.requires_grad_(True)
    imf.requires_grad_(True)
    out = head.loss(tf, imf, idx, bank)
    (out['loss_transform'] + out['loss_image']).backward()
    assert tf.grad.abs().sum() > 0 and imf.grad.abs().sum() > 0


@pytest.mark.parametrize('kwargs,msg', [
    (dict(loss_type='softmax'), "loss_type must be one of \\('nce', "
     "'infonce'\\)"),
    (dict(temperature=0), 'temperature must be > 0'),
    (dict(loss_lambda=1.5), r'loss_lambda must be in \[0, 1\]'),
    (dict(num_negatives=0), 'num_negatives must be a positive integer'),
    (dict(z_momentum=1.0), r'z_momentum must be in \[0, 1\)'),
])
def test_bad_config_refused(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        NCEHead(**kwargs)


def test_feature_size_mismatch_with_bank():
    bank = MemoryBank(20, 16)
    head = NCEHead(num_negatives=4)
    tf, imf, idx = _inputs()
    with pytest.raises(ValueError, match='memory bank stores 16-d'):
        head.loss(tf, imf, idx, bank)



def _toy_instance_discrimination(z_momentum, steps=300, m=500):
    """Train a small MLP + PIRL heads with the bank on M random points
    (two noisy views each); return the mean pairwise cosine of the learned
    features and the fraction of points whose noisy view retrieves them."""
    import torch.nn.functional as F
    from pirl_plugin.models.memories import MemoryBank
    torch.manual_seed(0)
    x_all = torch.randn(m, 64)
    net = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(),
                              torch.nn.Linear(128, 128), torch.nn.ReLU())
    f, g = torch.nn.Linear(128, 32), torch.nn.Linear(128, 32)
    params = [*net.parameters(), *f.parameters(), *g.parameters()]
    opt = torch.optim.SGD(params, lr=0.06, momentum=0.9, weight_decay=1e-4)
    bank = MemoryBank(m, 32)
    head = NCEHead('nce', num_negatives=128, z_momentum=z_momentum)
    for step in range(steps):
        idx = torch.randint(m, (32, ))
        x = x_all[idx]
        fi = f(net(x + 0.1 * torch.randn_like(x)))
        gt = g(net(x + 0.1 * torch.randn_like(x)))
        losses = head.loss(gt, fi, idx, bank)
        opt.zero_grad()
        (losses['loss_transform'] + losses['loss_image']).backward()
        opt.step()
        bank.stage_update(idx, fi)
        bank.commit()
    with torch.no_grad():
        z = F.normalize(f(net(x_all)), dim=1)
        cos = float((z @ z.T).fill_diagonal_(0).sum() / (m * (m - 1)))
        zq = F.normalize(f(net(x_all + 0.1 * torch.randn_like(x_all))), dim=1)
        acc = float(((zq @ z.T).argmax(1) == torch.arange(m)).float().mean())
    return cos, acc


def test_nce_with_per_iteration_z_learns_without_collapse():
    cos, acc = _toy_instance_discrimination(NCEHead().z_momentum)
    assert cos < 0.5 and acc > 0.9, (cos, acc)
    # the failure mode the default avoids: a stale (smoothed) Z collapses
    cos, acc = _toy_instance_discrimination(0.99)
    assert cos > 0.9, (cos, acc)
