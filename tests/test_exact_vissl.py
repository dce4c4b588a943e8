"""The exact-VISSL switches, each against VISSL's rule written here from its
source (facebookresearch/vissl at tag v0.1.6; "L" = line):

- ``NCEHead(frozen_z=True)``: ``vissl/losses/nce_loss.py`` L258-267 and
  L274-285: at the first forward ``out = exp(s / T)`` over the ``B x (1 +
  N)`` scores (positive in column 0) of the first term scored, ``Z = M *
  out.mean()`` (the ranks' means averaged), stored in the ``params``
  buffer and never recomputed (``if Z < 0``), then ``out / Z`` for every
  term; ``NCECriterion`` (L453-480) with the float32 eps.
- ``NCEHead(negative_sampling='vissl')``: L290-298 and L309-310:
  ``AliasMethod(torch.ones(M)).draw(B * (N + 1))``, column 0 overwritten
  with the positive, so N negatives uniform over all M with replacement
  (the positive included), drawn anew at each ``NCEAverage.forward`` call,
  i.e. per term (L144-159).
- ``PIRL(trunk_order='transform_first')``: ``vissl/models/base_ssl_model.py``
  L71-87 runs the trunk per input in ``MULTI_INPUT_HEAD_MAPPING`` order,
  ``patches`` then ``images`` (the PIRL yaml, L50-54 at 57ed609b).
- ``broadcast_buffers=True``: ``vissl/config/defaults.yaml`` L1237 and the
  PIRL yaml (L113 at 57ed609b); ``vissl/trainer/train_task.py`` L654-662
  sets DDP's buffer broadcast at every forward pass. VISSL's bank is in the
  loss, not the model, so only the model's buffers are broadcast.
- ``interpolation='pillow'``: ``vissl/data/ssl_transforms/
  img_pil_to_patches_and_image.py`` L57-68: torchvision's
  ``RandomResizedCrop`` on the PIL image for the image view and the 255-px
  jigsaw crop, i.e. ``img.crop(box).resize(size, Image.BILINEAR)``
  (torchvision's ``resized_crop`` on PIL images).
- ``MemoryBank(init_distribution='uniform')``: L318-324: ``stdv = 1 /
  sqrt(D / 3)``, ``memory = rand(M, D) * 2 * stdv - stdv``, then each row
  L2-normalised (``norm_init``).
"""
import copy
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

import pirl_plugin  # noqa: F401
from pirl_plugin.models.heads import NCEHead
from pirl_plugin.models.memories import MemoryBank
from pirl_plugin.models.memories.negative_sampling import \
    sample_negatives_vissl

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
VISSL_EPS = 1.1920928955078125e-07  # np.finfo('float32').eps


def _feats(b, d, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, d, generator=g), torch.randn(b, d, generator=g)


def _scores(bank, feat, idx, neg_idx, tau):
    """float64 ``s / tau`` of the positives ``(B,)`` and negatives ``(B, N)``
    from explicit dot products of the normalised queries with bank rows."""
    rows = bank.bank.double()
    q = feat.double() / feat.double().norm(dim=1, keepdim=True)
    pos = torch.stack([q[b] @ rows[i] for b, i in enumerate(idx.tolist())])
    neg = torch.stack([
        torch.stack([q[b] @ rows[n] for n in neg_idx[b].tolist()])
        for b in range(len(idx))
    ])
    return pos / tau, neg / tau


def _vissl_nce(pos, neg, z, m, eps):
    """VISSL's NCECriterion on ``out = exp(s) / Z``: mean over the batch of
    ``-log(P_pos / (P_pos + N/M + eps)) - sum log((N/M) / (P_n + N/M +
    eps))``."""
    c = neg.size(1) / m
    p_pos, p_neg = pos.exp() / z, neg.exp() / z
    loss = -(p_pos /
             (p_pos + c + eps)).log() - (c / (p_neg + c + eps)).log().sum(1)
    return float(loss.mean())


def _vissl_z(pos, neg, m):
    """``Z = M * mean(exp(s))`` over the ``B x (1 + N)`` scores."""
    return m * float(torch.cat([pos.unsqueeze(1), neg], 1).exp().mean())


# ------------------------------------------------------------- frozen Z
def test_frozen_z_is_set_from_the_first_batch_first_term_and_kept():
    m, n, tau = 40, 6, 0.1
    bank = MemoryBank(m, 8)
    head = NCEHead(
        temperature=tau, num_negatives=n, frozen_z=True, eps=VISSL_EPS)
    idx = torch.tensor([0, 5, 9, 13])
    neg_idx = bank.sample_negatives(idx, n)  # the paper's draw (default)
    tf, imf = _feats(4, 8, 1)
    out = head.loss(tf, imf, idx, bank)
    pos_t, neg_t = _scores(bank, tf, idx, neg_idx, tau)
    z = _vissl_z(pos_t, neg_t, m)  # the first term: the transformed view
    assert out['z_transform'].item() == pytest.approx(z, rel=1e-6)
    assert out['z_image'].item() == pytest.approx(z, rel=1e-6)
    # later batches keep it and both terms use it
    tf2, imf2 = _feats(4, 8, 2)
    out = head.loss(tf2, imf2, idx, bank)
    assert head.z.tolist() == pytest.approx([z, z], rel=1e-6)
    for key, feat in (('loss_transform', tf2), ('loss_image', imf2)):
        pos, neg = _scores(bank, feat, idx, neg_idx, tau)
        ref = 0.5 * _vissl_nce(pos, neg, z, m, VISSL_EPS)
        assert out[key].item() == pytest.approx(ref, rel=1e-5), key


def test_frozen_z_is_checkpointed_and_resumes_exactly():
    bank = MemoryBank(40, 8)
    kw = dict(temperature=0.1, num_negatives=6, frozen_z=True)
    idx = torch.tensor([1, 2, 3])
    first = NCEHead(**kw)
    first.loss(*_feats(3, 8, 1), idx, bank)
    resumed = NCEHead(**kw)
    resumed.load_state_dict(copy.deepcopy(first.state_dict()))
    later = _feats(3, 8, 2)
    a, b = first.loss(*later, idx, bank), resumed.loss(*later, idx, bank)
    assert torch.equal(resumed.z, first.z)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # a head that did not load it sets its own Z from the later batch
    fresh = NCEHead(**kw)
    fresh.loss(*later, idx, bank)
    assert not torch.allclose(fresh.z, first.z)


@pytest.mark.parametrize('kwargs,msg', [
    (dict(frozen_z=True, z_momentum=0.9), 'frozen_z'),
    (dict(frozen_z=True, loss_type='infonce'), 'frozen_z'),
    (dict(negative_sampling='vissl', shared_negatives=True), 'shared'),
    (dict(negative_sampling='alias'), 'negative_sampling'),
])
def test_contradicting_exact_vissl_options_are_refused(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        NCEHead(**kwargs)


# --------------------------------------------------------- negatives
def test_vissl_negatives_uniform_with_replacement_positive_allowed():
    m, n = 5, 4000
    bank = MemoryBank(m, 4)
    idx = torch.arange(m)
    draws = [sample_negatives_vissl(bank, idx, n, k, 2) for k in (0, 1)]
    for d in draws:
        assert d.shape == (m, n) and d.min() >= 0 and d.max() < m
        # the own index is drawn as often as any other: Binomial(n, 1/M),
        # mean 800, sd 25
        own = (d == idx.view(-1, 1)).sum(1)
        assert ((own > 650) & (own < 950)).all(), own
        counts = torch.bincount(d.flatten(), minlength=m).double()
        expected = d.numel() / m
        chi2 = float(((counts - expected)**2 / expected).sum())
        assert chi2 < 25, chi2  # 4 degrees of freedom
    # a separate draw per term: the terms agree only by chance (1 / M)
    same = float((draws[0] == draws[1]).double().mean())
    assert 0.17 < same < 0.23, same


def test_exact_vissl_head_scores_each_term_against_its_own_draw():
    """Frozen Z and VISSL's negatives together: each term against its own
    draw, the positive kept where it was drawn."""
    m, n, tau = 12, 30, 0.2
    bank = MemoryBank(m, 8)
    head = NCEHead(
        temperature=tau,
        num_negatives=n,
        frozen_z=True,
        negative_sampling='vissl',
        eps=VISSL_EPS)
    idx = torch.tensor([0, 4, 7])
    draws = [sample_negatives_vissl(bank, idx, n, k, 2) for k in (0, 1)]
    assert (draws[0] == idx.view(-1, 1)).any()  # a positive among them
    tf, imf = _feats(3, 8, 3)
    out = head.loss(tf, imf, idx, bank)
    scores = [_scores(bank, f, idx, d, tau) for f, d in zip((tf, imf), draws)]
    z = _vissl_z(*scores[0], m)
    assert out['z_transform'].item() == pytest.approx(z, rel=1e-6)
    for key, (pos, neg) in zip(('loss_transform', 'loss_image'), scores):
        ref = 0.5 * _vissl_nce(pos, neg, z, m, VISSL_EPS)
        assert out[key].item() == pytest.approx(ref, rel=1e-5), key


# ------------------------------------------------------------ trunk order
@pytest.mark.parametrize('order', ['image_first', 'transform_first'])
def test_trunk_order_sets_the_batchnorm_statistics(order):
    """The stem's BatchNorm running mean after one step, from its update
    rule ``r <- (1 - mom) r + mom * batch mean`` applied per trunk call in
    the configured order (VISSL: patches, then the image)."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'pirl',
                 'pirl_resnet18w16_1xb64-coslr-20e_shapes-demo.py'))
    mcfg = copy.deepcopy(cfg.model)
    mcfg.memory_bank.num_samples = 20
    mcfg.head.num_negatives = 8
    mcfg.trunk_order = order
    model = MODELS.build(mcfg).train()
    g = torch.Generator().manual_seed(0)
    img = torch.randn(2, 3, 32, 32, generator=g) + 1.0
    patches = [torch.randn(2, 3, 16, 16, generator=g) - 1.0 for _ in range(9)]
    bn = model.backbone.norm1
    assert not bn.running_mean.any()
    mom = bn.momentum
    with torch.no_grad():
        mean_img = model.backbone.conv1(img).mean((0, 2, 3))
        views = torch.stack(patches, 1).flatten(0, 1)
        mean_tf = model.backbone.conv1(views).mean((0, 2, 3))
    first, last = ((mean_tf, mean_img) if order == 'transform_first' else
                   (mean_img, mean_tf))
    expected = (1 - mom) * mom * first + mom * last
    samples = [DataSample(metainfo=dict(sample_idx=i)) for i in (3, 7)]
    model.loss([img] + patches, samples)
    torch.testing.assert_close(bn.running_mean, expected)


def test_pirl_keeps_the_bank_and_z_out_of_the_buffer_broadcast():
    from pirl_plugin.models.algorithms.pirl import replicated_state_buffers
    bank = MemoryBank(10, 4)
    toy = torch.nn.Module()
    toy.memory_bank, toy.head = bank, NCEHead()
    toy.backbone = torch.nn.BatchNorm1d(4)
    assert sorted(replicated_state_buffers(toy)) == [
        'head.z', 'memory_bank.bank', 'memory_bank.num_updates'
    ]


# ------------------------------------------------------ broadcast_buffers
def _ddp_worker(rank, port, results):
    import torch.distributed as torch_dist
    from mmengine.model import MMDistributedDataParallel

    from pirl_plugin.models.algorithms.pirl import replicated_state_buffers
    torch_dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    try:
        for broadcast in (True, False):
            toy = torch.nn.Module()
            toy.backbone = torch.nn.BatchNorm1d(3)
            toy.memory_bank = MemoryBank(6, 3)
            toy.head = NCEHead()
            toy._ddp_params_and_buffers_to_ignore = \
                replicated_state_buffers(toy)
            toy.forward = lambda x, toy=toy: toy.backbone(x).sum()
            ddp = MMDistributedDataParallel(
                toy, broadcast_buffers=broadcast, device_ids=None)
            # rank-specific buffers after wrapping
            toy.backbone.running_mean.fill_(float(rank + 1))
            toy.memory_bank.bank.fill_(float(rank + 1))
            ddp(torch.full((4, 3), 10.0 * (rank + 1)))
            results[(rank, broadcast)] = (toy.backbone.running_mean.clone(),
                                          toy.memory_bank.bank.clone())
    finally:
        torch_dist.destroy_process_group()


@pytest.mark.slow
def test_broadcast_buffers_is_vissls_rule_for_batchnorm_only():
    """broadcast_buffers=True (the 32xb32 configs, VISSL): every forward
    starts from rank 0's BatchNorm statistics; the bank stays each rank's
    own. False (ours): each rank keeps its statistics."""
    import socket

    import torch.multiprocessing as mp
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    results = mp.Manager().dict()
    mp.spawn(_ddp_worker, args=(port, results), nprocs=2)
    for rank in (0, 1):
        for broadcast in (True, False):
            mean, bank = results[(rank, broadcast)]
            start = 1.0 if broadcast else float(rank + 1)
            expected = 0.9 * start + 0.1 * 10.0 * (rank + 1)
            torch.testing.assert_close(mean, torch.full((3, ), expected))
            assert (bank == float(rank + 1)).all(), (rank, broadcast)


# -------------------------------------------------------------- resizing
@pytest.mark.parametrize('source', ['noise', 'photo'])
def test_pillow_interpolation_is_pillows_resize_for_both_crops(source):
    """The image view and the 255 jigsaw crop (read back from the patches),
    shrunk and enlarged, against Pillow's ``crop(box).resize(size,
    BILINEAR)``. Tolerance: at most one level, and under 5% of the values
    one level off (the mode computes Pillow's filter with torch, which
    rounds differently on some values). OpenCV's bilinear, which does not
    antialias, is far from it when shrinking."""
    import cv2

    from pirl_plugin.datasets.transforms import PIRLJigsawTransform
    if source == 'noise':
        rng = np.random.RandomState(0)
        img = rng.randint(0, 256, (300, 400, 3), dtype=np.uint8)
    else:
        from sklearn.datasets import load_sample_image
        img = np.ascontiguousarray(
            load_sample_image('china.jpg')[50:350, 100:500])
    t = PIRLJigsawTransform(
        interpolation='pillow',
        recipe='none',
        img_flip_prob=0.0,
        permutations=[list(range(9))])

    def pillow(box, size):
        y, x, h, w = box
        crop = Image.fromarray(img).crop((x, y, x + w, y + h))
        return np.asarray(crop.resize((size, size), Image.BILINEAR))

    def check(ours, ref):
        d = np.abs(ours.astype(int) - ref)
        assert d.max() <= 1 and (d > 0).mean() < 0.05, (d.max(),
                                                        (d > 0).mean())

    # (y, x, h, w) of the image view and the jigsaw crop: shrunk, enlarged
    for img_box, jig_box in (((10, 20, 280, 350), (5, 30, 290, 360)),
                             ((40, 50, 90, 70), (60, 10, 120, 100))):
        t.img_crop.rand_crop_params = lambda _, b=img_box: b
        t.jigsaw_crop.rand_crop_params = lambda _, b=jig_box: b
        out = t.transform(dict(img=img.copy()))
        check(out['img'][0], pillow(img_box, 224))
        ref_jig = pillow(jig_box, 255)
        for patch, (x1, y1, x2, y2) in zip(out['img'][1:],
                                           out['jigsaw_boxes']):
            check(patch, ref_jig[y1:y2, x1:x2])
    y, x, h, w = 10, 20, 280, 350
    opencv = cv2.resize(img[y:y + h, x:x + w], (224, 224))
    ref = pillow((y, x, h, w), 224)
    assert np.abs(opencv.astype(int) - ref).max() > 20


# --------------------------------------------------------------- configs
EXACT = [
    'pirl_resnet50_32xb32-coslr-800e_in1k.py',
    'pirl_resnet50_32xb32-coslr-200e_in1k.py'
]
OURS = [
    'pirl_resnet50_8xb32-coslr-800e_in1k.py',
    'pirl_resnet50_8xb32-coslr-200e_in1k.py'
]


def _view_transform(cfg):
    pipe = cfg.train_dataloader.dataset.pipeline
    view, = [t for t in pipe if t['type'] == 'PIRLJigsawTransform']
    return view


@pytest.mark.parametrize('name', EXACT + OURS)
def test_exact_vissl_switches_in_the_configs(name):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pirl', name))
    exact = name in EXACT
    head = cfg.model.head
    assert head.get('frozen_z', False) is exact
    assert head.get('negative_sampling',
                    'paper') == ('vissl' if exact else 'paper')
    assert head.get('eps', 0.0) == (VISSL_EPS if exact else 0.0)
    assert cfg.model.get(
        'trunk_order',
        'image_first') == ('transform_first' if exact else 'image_first')
    assert cfg.model_wrapper_cfg.broadcast_buffers is exact
    assert _view_transform(cfg).get(
        'interpolation', 'bilinear') == ('pillow' if exact else 'bilinear')
    assert cfg.model.memory_bank.get(
        'init_distribution', 'normal') == ('uniform' if exact else 'normal')
    # 32 GPUs x 32 = 1,024 at 0.12; 8 x 32 = 256 at 0.03: 0.03 per 256
    gpus = 32 if exact else 8
    batch = gpus * cfg.train_dataloader.batch_size
    assert batch == cfg.auto_scale_lr.base_batch_size == (1024
                                                          if exact else 256)
    assert math.isclose(cfg.optim_wrapper.optimizer.lr, 0.03 * batch / 256)
    epochs = 800 if '800e' in name else 200
    assert cfg.param_scheduler[0].T_max == epochs


def test_exact_vissl_model_builds_and_trains_a_step():
    """The 32xb32 model (ResNet-18 and a small bank for speed) builds from
    the config and takes a step with every switch on."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pirl', EXACT[0]))
    mcfg = copy.deepcopy(cfg.model)
    mcfg.backbone = dict(mcfg.backbone, depth=18, init_cfg=None)
    mcfg.neck.in_channels = mcfg.transform_neck.in_channels = 512
    mcfg.memory_bank.num_samples = 30
    mcfg.head.num_negatives = 50  # more than M - 1: with replacement
    model = MODELS.build(mcfg).train()
    # DDP's broadcast_buffers=True must not touch the bank and Z
    assert {'memory_bank.bank', 'head.z'} <= set(
        model._ddp_params_and_buffers_to_ignore)
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randn(2, 3, 32, 32, generator=g)]
    inputs += [torch.randn(2, 3, 16, 16, generator=g) for _ in range(9)]
    samples = [DataSample(metainfo=dict(sample_idx=i)) for i in (1, 2)]
    losses = model.loss(inputs, samples)
    assert losses['z_transform'] == losses['z_image']
    loss = losses['loss_transform'] + losses['loss_image']
    assert torch.isfinite(loss)
    loss.backward()
    assert model.memory_bank.has_pending_update


# ------------------------------------------------------ bank initialisation
def _kurtosis(rows):
    x = rows.double().flatten()
    return ((x**4).mean() / (x**2).mean()**2).item()


def test_uniform_bank_init_is_vissls_rule():
    """VISSL's rows: uniform in [-stdv, stdv]^D, then normalised. The
    normalised rows do not depend on stdv, and their coordinates keep the
    uniform law's fourth-moment ratio E[x^4] / E[x^2]^2 = 9/5 (a Gaussian's
    is 3); the bank's shards equal the same rows of the full bank."""
    d, m = 128, 2000
    stdv = 1.0 / math.sqrt(d / 3)
    g = torch.Generator().manual_seed(0)
    ref = torch.rand(m, d, generator=g).mul_(2 * stdv).add_(-stdv)
    ref = ref / ref.norm(dim=1, keepdim=True)
    uniform = MemoryBank(m, d, init_distribution='uniform').bank
    normal = MemoryBank(m, d).bank
    torch.testing.assert_close(uniform.norm(dim=1), torch.ones(m))
    assert _kurtosis(uniform) == pytest.approx(_kurtosis(ref), abs=0.05)
    assert _kurtosis(ref) == pytest.approx(1.8, abs=0.05)
    assert _kurtosis(normal) == pytest.approx(3.0, abs=0.15)
    with pytest.raises(ValueError, match='init_distribution'):
        MemoryBank(m, d, init_distribution='laplace')
