"""The parts of one PIRL and one MoCo v2 training iteration, each a named
closure on one real batch, for :mod:`pirl_plugin.utils.step_breakdown` to
time."""
from typing import Callable, List, Tuple

import torch
from torch import nn

from .private_access import moco_enqueue
from .throughput import Trainee

Parts = List[Tuple[str, Callable]]


def _with_saved_grads(model: nn.Module, optim) -> Callable:
    """The optimiser step on the gradients of one real training step
    (re-attached before each call: other parts clear them)."""
    grads = [(p, p.grad) for p in model.parameters() if p.grad is not None]

    def step():
        for p, g in grads:
            p.grad = g
        optim.step()

    return step


def _pirl_head_parts(m: nn.Module, fi0: torch.Tensor, ft0: torch.Tensor,
                     idx: torch.Tensor) -> Parts:
    """The NCE head and memory-bank parts of a PIRL iteration.

    Args:
        m (nn.Module): the PIRL model.
        fi0 (Tensor): ``(B, D)`` image-view embeddings (no grad).
        ft0 (Tensor): ``(B, D)`` patch embeddings (no grad).
        idx (Tensor): ``(B,)`` dataset indices of the batch.

    Returns:
        list[tuple[str, callable]]: the named closures.
    """
    head, bank = m.head, m.memory_bank
    n = head.num_negatives
    neg_idx = bank.sample_negatives(idx, n, head.shared_negatives)
    q0 = nn.functional.normalize(torch.stack([ft0, fi0], 1), dim=2)
    neg_logits = bank.score(q0, neg_idx).detach() / head.temperature

    def head_fb():
        fi = fi0.clone().requires_grad_()
        ft = ft0.clone().requires_grad_()
        losses = head.loss(ft, fi, idx, bank)
        sum(v for k, v in losses.items() if 'loss' in k).backward()

    def score_fb():
        bank.score(q0.clone().requires_grad_(), neg_idx).sum().backward()

    def bank_update():
        bank.stage_update(idx, fi0)
        bank.commit()

    return [
        ('NCE head (sampling, scoring, Z, loss), forward + backward', head_fb),
        ('  of which: negative sampling',
         lambda: bank.sample_negatives(idx, n, head.shared_negatives)),
        ('  of which: bank scoring (gather B x N rows), forward + backward',
         score_fb),
        ('  of which: float64 Z over B x N x 2 exps',
         lambda: head.update_z(neg_logits, None, bank.num_samples)),
        ('bank update (stage + commit)', bank_update),
    ]


def pirl_parts(t: Trainee, raw: dict) -> Parts:
    """The parts of a PIRL iteration, each a closure on one real batch."""
    m = t.model
    zero = (lambda: m.zero_grad(set_to_none=True))
    data = m.data_preprocessor(raw, True)
    inputs, samples = data['inputs'], data['data_samples']
    views = torch.stack(list(inputs[1:]), dim=1).flatten(0, 1)
    img = inputs[0]
    if getattr(m, 'channels_last', False):
        img = img.contiguous(memory_format=torch.channels_last)
        views = views.contiguous(memory_format=torch.channels_last)
    img_fwd = (lambda: m.neck(m.backbone(img))[0])
    patch_fwd = (lambda: m.transform_neck(m.backbone(views))[0])
    with torch.no_grad():
        fi0, ft0 = img_fwd(), patch_fwd()
    head_parts = _pirl_head_parts(m, fi0, ft0,
                                  m.sample_indices(samples, fi0.device))
    losses = m(**data, mode='loss')
    m.parse_losses(losses)[0].backward()
    t.after_step()
    step = _with_saved_grads(m, t.optim)
    zero()
    return [
        ('data_preprocessor (10 views)',
         lambda: m.data_preprocessor(raw, True)),
        ('stack + flatten of the 9 patch tensors',
         lambda: torch.stack(list(inputs[1:]), dim=1).flatten(0, 1)),
        ('image view: backbone + f, forward', img_fwd),
        ('image view: backbone + f, forward + backward', lambda:
         (img_fwd().sum().backward(), zero())),
        ('patches: backbone + g, forward', patch_fwd),
        ('patches: backbone + g, forward + backward', lambda:
         (patch_fwd().sum().backward(), zero())),
        *head_parts,
        ('optimiser step (SGD)', step),
    ]


def moco_parts(t: Trainee, raw: dict) -> Parts:
    """The parts of a MoCo v2 iteration, each a closure on one real batch."""
    m = t.model
    zero = (lambda: m.zero_grad(set_to_none=True))
    data = m.data_preprocessor(raw, True)
    im_q, im_k = data['inputs'][0], data['inputs'][1]
    q_fwd = (lambda: m.neck(m.backbone(im_q))[0])
    online = nn.Sequential(m.backbone, m.neck)

    def key_fwd():
        with torch.no_grad():
            return m.encoder_k(im_k)[0]

    with torch.no_grad():
        q0 = q_fwd()
    k = nn.functional.normalize(key_fwd(), dim=1)

    def head_fb():
        q = nn.functional.normalize(q0.clone().requires_grad_(), dim=1)
        l_pos = torch.einsum('nc,nc->n', [q, k]).unsqueeze(-1)
        l_neg = torch.einsum('nc,ck->nk', [q, m.queue.clone().detach()])
        m.head.loss(l_pos, l_neg).backward()

    losses = m(**data, mode='loss')
    m.parse_losses(losses)[0].backward()
    step = _with_saved_grads(m, t.optim)
    zero()
    return [
        ('data_preprocessor (2 views)',
         lambda: m.data_preprocessor(raw, True)),
        ('query view: backbone + neck, forward', q_fwd),
        ('query view: backbone + neck, forward + backward', lambda:
         (q_fwd().sum().backward(), zero())),
        ('key encoder EMA update',
         lambda: m.encoder_k.update_parameters(online)),
        ('key view: momentum encoder forward (no grad)', key_fwd),
        ('contrastive head (queue logits, CE), forward + backward', head_fb),
        ('queue update', lambda: moco_enqueue(m, k)),
        ('optimiser step (SGD)', step),
    ]
