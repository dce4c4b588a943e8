"""The parts of one PIRL and one MoCo v2 training iteration, timed on one
real batch (``tools/benchmarks/vs_mocov2.py --breakdown``)."""
import statistics
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch import nn

from .private_access import moco_enqueue
from .throughput import Trainee


def _count_flops(fn: Callable) -> float:
    """Forward and backward FLOPs of ``fn()``."""
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc:
        fn()
    return float(fc.get_total_flops())


def _pipeline_ms(trainee: Trainee, num: int) -> float:
    """Milliseconds per image of the data pipeline, in this process."""
    ds = trainee.loader.dataset
    n = min(num, len(ds))
    ds[0]
    t = time.perf_counter()
    for i in range(n):
        ds[i % len(ds)]
    return (time.perf_counter() - t) / n * 1e3


def _step_split(t: Trainee, raw: dict) -> Dict[str, float]:
    """One full training step split into its sequential phases."""
    model, optim = t.model, t.optim
    t0 = time.perf_counter()
    data = model.data_preprocessor(raw, True)
    t1 = time.perf_counter()
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    t2 = time.perf_counter()
    loss.backward()
    t3 = time.perf_counter()
    optim.step()
    optim.zero_grad()
    t4 = time.perf_counter()
    t.after_step()
    t5 = time.perf_counter()
    return {
        'data_preprocessor': t1 - t0,
        'forward (loss)': t2 - t1,
        'backward': t3 - t2,
        'optimiser step': t4 - t3,
        'after step': t5 - t4
    }


def _profile_step(t: Trainee, raw: dict, top: int) -> List[dict]:
    """The ``top`` operators of one step by their own CPU time."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t.model.train_step(raw, t.optim)
        t.after_step()
    rows = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    return [
        dict(op=e.key, self_ms=e.self_cpu_time_total / 1e3, calls=e.count)
        for e in rows[:top]
    ]


def _flops(t: Trainee, raw: dict) -> Optional[float]:
    """FLOPs of one training step (None if the counter fails)."""
    try:
        return _count_flops(lambda: t.model.train_step(raw, t.optim))
    except Exception as e:
        print(f'[vs_mocov2] FLOP count failed: {e!r}')
        return None
    finally:
        t.after_step()


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
         lambda: head._update_z(neg_logits, None, bank.num_samples)),
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


def run_parts(groups: Dict[str, Parts], repeat: int) -> Dict[str, dict]:
    """Time every part ``repeat`` times, round-robin over all parts of both
    models (so a change of load hits both alike) after one untimed round;
    report the best and the median, and the FLOPs of one call."""
    times = {g: {n: [] for n, _ in parts} for g, parts in groups.items()}
    failed = set()
    for r in range(repeat + 1):
        for g, parts in groups.items():
            for name, fn in parts:
                if (g, name) in failed:
                    continue
                try:
                    t = time.perf_counter()
                    fn()
                    dt = time.perf_counter() - t
                except Exception as e:  # a part that moved in the code
                    failed.add((g, name))
                    print(f'[vs_mocov2] breakdown part {name!r} failed: '
                          f'{e!r}')
                    continue
                if r:
                    times[g][name].append(dt)
    out = {}
    for g, parts in groups.items():
        out[g] = {}
        for name, fn in parts:
            v = times[g][name]
            if (g, name) in failed or not v:
                out[g][name] = None
                continue
            out[g][name] = dict(
                best_s=min(v),
                median_s=statistics.median(v),
                gflop=_count_flops(fn) / 1e9)
    return out


def breakdown(pirl: Trainee, moco: Trainee, repeat: int, top: int,
              images: int) -> dict:
    """Time the parts of one iteration of each model on one batch.

    Args:
        pirl (Trainee): the PIRL model.
        moco (Trainee): the MoCo v2 model.
        repeat (int): timed repetitions of each part.
        top (int): operators of the profiler to keep.
        images (int): images for the data-pipeline timing.

    Returns:
        dict: pipeline ms per image, parts, step split, FLOPs and the top
        operators of each model.
    """
    for t in (pirl, moco):
        t.signal_workers(stop=False)
    raw_p, raw_m = next(pirl.it), next(moco.it)
    out = dict(repeat=repeat)
    print('[vs_mocov2] breakdown: pipelines', flush=True)
    out['pipeline_ms_per_image'] = dict(
        pirl=_pipeline_ms(pirl, images), mocov2=_pipeline_ms(moco, images))
    print('[vs_mocov2] breakdown: parts', flush=True)
    z_saved = pirl.model.head.z.clone()
    res = run_parts(
        dict(pirl=pirl_parts(pirl, raw_p), mocov2=moco_parts(moco, raw_m)),
        repeat)
    pirl.model.head.z.copy_(z_saved)
    out['pirl_parts_s'], out['mocov2_parts_s'] = res['pirl'], res['mocov2']
    print('[vs_mocov2] breakdown: step split', flush=True)
    split = {'pirl': [], 'mocov2': []}
    for _ in range(repeat):
        split['pirl'].append(_step_split(pirl, raw_p))
        split['mocov2'].append(_step_split(moco, raw_m))
    for k, v in split.items():
        out[f'{k}_step_split_s'] = {
            phase: dict(
                best_s=min(r[phase] for r in v),
                median_s=statistics.median(r[phase] for r in v))
            for phase in v[0]
        }
    print('[vs_mocov2] breakdown: FLOPs and profiler', flush=True)
    fp, fm = _flops(pirl, raw_p), _flops(moco, raw_m)
    out['flops_per_step'] = dict(
        pirl=fp, mocov2=fm, ratio=fp / fm if fp and fm else None)
    out['pirl_top_ops'] = _profile_step(pirl, raw_p, top)
    out['mocov2_top_ops'] = _profile_step(moco, raw_m, top)
    return out
