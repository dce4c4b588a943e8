"""End-to-end training throughput: a PIRL iteration against a MoCo v2
iteration, data loading included, alternately in one process.

Both models are built through MMPretrain's ``MODELS`` registry from config
dicts:

- PIRL from this project's ``configs/_base_/models/pirl_r50.py`` (NCE with
  per-sample negatives, the paper's heads), adapted to the size below, with
  its data pipeline from the project's dataset config
  (``configs/_base_/datasets/shapes_demo_pirl.py`` for ``demo``,
  ``imagenet_pirl.py`` for ``imagenet``) with the view sizes set below;
- MoCo v2 from MMPretrain's own ``mocov2_resnet50_8xb32-coslr-200e_in1k.py``
  (``type='MoCo'`` with ``MoCoV2Neck`` and ``ContrastiveHead``, tau 0.2;
  MMPretrain 1.2 has no separate ``MoCoV2`` class, v2 is MoCo with the v2
  neck and pipeline) and the two-view pipeline of its
  ``imagenet_bs32_mocov2.py``. That pipeline's ``ColorJitter`` with
  ``hue=0.1`` crashes under numpy 2 (mmcv's ``adjust_hue`` overflows,
  DESIGN.md section 4), so it is replaced by this project's
  ``PIRLColorJitter`` with the same parameters and probability (as
  ``data_pipeline.py``'s ``mocov2-pirljitter`` variant); everything else is
  MMPretrain's.

Same backbone (ResNet, full width), batch, resolution, optimiser (the PIRL
schedule's ``optim_wrapper``: SGD, lr 0.03, momentum 0.9, weight decay
1e-4), data-loader settings (workers, collate, infinite shuffled sampler
through MMEngine's ``Runner.build_dataloader``), ``torch.set_num_threads``,
and the same folder of generated JPEGs.

========  =========  =====  ===================  =======  ==================
size      backbone   batch  PIRL views           MoCo v2  negatives / queue
========  =========  =====  ===================  =======  ==================
demo      ResNet-18  64     96 + 9 x 28          2 x 96   N=4,096, bank
                            (of a 96 crop)                10,000; queue 4,096
imagenet  ResNet-50  32     224 + 9 x 64         2 x 224  N=32,000, bank
                            (of a 255 crop)               1,281,167; queue
                                                          65,536
tiny      ResNet-18  4      32 + 9 x 10          2 x 32   N=64, bank 256;
                            (of a 30 crop)                queue 64 (smoke)
========  =========  =====  ===================  =======  ==================

Images: ``demo`` and ``tiny`` use this project's procedural shapes images
(96 px, ``pirl_plugin.datasets.synthetic``, what ``make demo`` trains on);
``imagenet`` uses ImageNet-size JPEGs
(``pirl_plugin.utils.benchmarking.make_jpegs``). The bank is larger than
the folder, as large as the dataset it stands for (ImageNet-1k's 1,281,167
rows at ``imagenet``: the scorer the bank picks, and its cost, depend on
the bank size, see ``MemoryBank.score_mode``);
dataset indices index its first rows.

One timed iteration is what a training iteration costs: ``next()`` on the
model's own data loader (waiting for its workers), then
``model.train_step`` (data preprocessor, forward, backward, SGD step), and
for PIRL the bank commit that ``MemoryBankHook`` does after the step. After
warm-up the two models alternate iteration by iteration (the order swapped
every round). Reported: the median seconds per iteration of each, and the
ratio, the median over rounds of PIRL's iteration time over the adjacent
MoCo v2 iteration's (on a shared machine a change of load between two
stretches of the run moves both medians but not the adjacent ratios; the
ratio of the medians is in the JSON too).

Worker isolation (default with workers > 0): the two loaders' worker
processes would otherwise prefetch for one model while the other one is
timed, on the same cores. While one model runs, the other's workers are
stopped (SIGSTOP) and resumed (SIGCONT) when its turn comes, so each model
is timed as in a run of its own: its own workers competing with its own
compute. ``--no-isolate-workers`` lets them all run.

``--breakdown`` then times the parts of one iteration of each model on one
batch (data pipeline per image in this process, data preprocessor, backbone
forward and forward+backward per view, heads and losses, bank / queue
work, optimiser step), the sequential split of a full step, the FLOPs of a
step (forward + backward, ``torch.utils.flop_counter``) and the top
operators of a step (``torch.profiler``), into the JSON.

    python tools/benchmarks/vs_mocov2.py --size demo
    python tools/benchmarks/vs_mocov2.py --size imagenet --warmup 3 --iters 10
    python tools/benchmarks/vs_mocov2.py --size demo --breakdown
    python tools/benchmarks/vs_mocov2.py --size tiny      # smoke run

Prints ``[vs_mocov2] <size>: PIRL x s/iter, MoCo v2 y s/iter, ratio z``
and writes JSON (``--out``; default ``vs_mocov2_<size>.json``).
"""
import argparse
import copy
import json
import logging
import math
import os
import os.path as osp
import platform
import signal
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.utils.dl_utils import set_multi_processing
from mmpretrain.registry import MODELS
from torch import nn

import pirl_plugin  # noqa: F401
from pirl_plugin.utils.benchmarking import make_jpegs, replace_jitter
from pirl_plugin.utils.cpu_memory import keep_freed_memory

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASE = osp.join(REPO, 'configs', '_base_')
PIRL_MODEL = osp.join(BASE, 'models', 'pirl_r50.py')
PIRL_SCHEDULE = osp.join(BASE, 'schedules', 'pirl_sgd_coslr.py')
TARGET = 1.35

SIZES = {
    'demo':
    dict(
        depth=18,
        batch=64,
        img_size=96,
        jigsaw_crop=96,
        patch_size=28,
        moco_size=96,
        num_negatives=4096,
        bank_size=10000,
        queue_len=4096,
        images='shapes',
        image_px=96,
        num_images=640,
        num_workers=2,
        warmup=3,
        iters=10,
        pirl_data=osp.join(BASE, 'datasets', 'shapes_demo_pirl.py')),
    'imagenet':
    dict(
        depth=50,
        batch=32,
        img_size=224,
        jigsaw_crop=255,
        patch_size=64,
        moco_size=224,
        num_negatives=32000,
        bank_size=1281167,
        queue_len=65536,
        images='imagenet',
        num_images=256,
        num_workers=2,
        warmup=3,
        iters=10,
        pirl_data=osp.join(BASE, 'datasets', 'imagenet_pirl.py')),
    'tiny':
    dict(
        depth=18,
        batch=4,
        img_size=32,
        jigsaw_crop=30,
        patch_size=10,
        moco_size=32,
        num_negatives=64,
        bank_size=256,
        queue_len=64,
        images='shapes',
        image_px=96,
        num_images=20,
        num_workers=1,
        warmup=1,
        iters=2,
        pirl_data=osp.join(BASE, 'datasets', 'shapes_demo_pirl.py')),
}


# --------------------------------------------------------------- configs
def mocov2_model_config() -> str:
    import mmpretrain
    path = osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'configs', 'mocov2',
        'mocov2_resnet50_8xb32-coslr-200e_in1k.py')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'MMPretrain\'s MoCo v2 config not found at {path}; is '
            'mmpretrain 1.2.0 installed from its wheel?')
    return path


def _walk(obj, fn):
    """Apply ``fn`` to every transform dict of a (nested) pipeline."""
    if isinstance(obj, dict):
        obj = {k: _walk(v, fn) for k, v in obj.items()}
        return fn(obj) if 'type' in obj else obj
    if isinstance(obj, list):
        return [_walk(v, fn) for v in obj]
    return obj


def pirl_config(s: dict) -> dict:
    """PIRL model and pipeline: the project's base configs at size ``s``."""
    model = copy.deepcopy(Config.fromfile(PIRL_MODEL).model.to_dict())
    width = 2048 if s['depth'] >= 50 else 512
    model['backbone']['depth'] = s['depth']
    model['neck']['in_channels'] = width
    model['transform_neck']['in_channels'] = width
    model['head']['num_negatives'] = s['num_negatives']
    model['memory_bank']['num_samples'] = s['bank_size']
    pipeline = Config.fromfile(s['pirl_data']).to_dict()['train_pipeline']

    def size(t):
        if t['type'] == 'PIRLJigsawTransform':
            t.update(
                img_size=s['img_size'],
                jigsaw_crop_size=s['jigsaw_crop'],
                patch_size=s['patch_size'])
        return t

    return dict(model=model, pipeline=_walk(pipeline, size))


def mocov2_config(s: dict) -> dict:
    """MMPretrain's MoCo v2 model and pipeline at size ``s``."""
    cfg = Config.fromfile(mocov2_model_config())
    model = copy.deepcopy(cfg.model.to_dict())
    width = 2048 if s['depth'] >= 50 else 512
    model['backbone']['depth'] = s['depth']
    # the R50 config's neck is 2048 -> 2048 -> 128: hidden = input width
    model['neck']['in_channels'] = width
    model['neck']['hid_channels'] = width
    model['queue_len'] = s['queue_len']
    # MMEngine's Runner puts the top-level data_preprocessor into the model
    model.setdefault('data_preprocessor',
                     copy.deepcopy(cfg.data_preprocessor.to_dict()))
    pipeline = copy.deepcopy(cfg.to_dict()['train_pipeline'])
    # numpy 2: mmcv's adjust_hue overflows -> this project's jitter with
    # MMPretrain's parameters and probability
    pipeline = replace_jitter(
        pipeline, lambda j, p: dict(
            type='PIRLColorJitter',
            brightness=j['brightness'],
            contrast=j['contrast'],
            saturation=j['saturation'],
            hue=j['hue'],
            prob=p,
            gray_prob=0.0))

    def size(t):
        if t['type'] == 'RandomResizedCrop':
            t['scale'] = s['moco_size']
        return t

    return dict(model=model, pipeline=_walk(pipeline, size))


def optim_config() -> dict:
    return copy.deepcopy(
        Config.fromfile(PIRL_SCHEDULE).optim_wrapper.to_dict())


def make_images(s: dict, data_dir: str) -> str:
    """The JPEG folder both loaders read (created unless present)."""
    if s['images'] == 'imagenet':
        folder = osp.join(data_dir, 'imagenet_size')
        make_jpegs(folder, s['num_images'])
        return folder
    from pirl_plugin.datasets.synthetic import CLASSES, make_shapes_dataset
    per_class = math.ceil(s['num_images'] / len(CLASSES))
    folder = osp.join(data_dir, f'shapes{s["image_px"]}_{per_class}')
    make_shapes_dataset(folder, per_class, 0, s['image_px'], seed=0)
    return osp.join(folder, 'train')


# ----------------------------------------------------------------- runs
class Trainee:
    """What a runner holds for one model: the model, its optimiser wrapper
    and an iterator over its own data loader."""

    def __init__(self,
                 name: str,
                 model: nn.Module,
                 optim,
                 loader,
                 after_step: Optional[Callable] = None) -> None:
        self.name = name
        self.model = model
        self.optim = optim
        self.loader = loader
        self.it = iter(loader)
        self.after_step = after_step or (lambda: None)
        self.pids = [w.pid for w in getattr(self.it, '_workers', [])]
        self.stopped = False
        self.total: List[float] = []
        self.data_wait: List[float] = []
        self.step: List[float] = []

    def signal_workers(self, stop: bool) -> None:
        if stop == self.stopped or not self.pids:
            return
        sig = signal.SIGSTOP if stop else signal.SIGCONT
        for pid in self.pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        self.stopped = stop

    def iteration(self, record: bool) -> None:
        t0 = time.perf_counter()
        data = next(self.it)
        t1 = time.perf_counter()
        self.model.train_step(data, self.optim)
        self.after_step()
        t2 = time.perf_counter()
        if record:
            self.total.append(t2 - t0)
            self.data_wait.append(t1 - t0)
            self.step.append(t2 - t1)


def build_trainee(name: str, cfg: dict, s: dict, folder: str, workers: int,
                  seed: int) -> Trainee:
    torch.manual_seed(seed)
    # quiet: init_weights logs every parameter, and the optimiser
    # constructor warns once per parameter of MoCo's momentum encoder
    # ("skipped since its requires_grad=False")
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        model = MODELS.build(cfg['model'])
        model.init_weights()
        optim = build_optim_wrapper(model, optim_config())
    finally:
        logger.setLevel(level)
    model.train()
    loader = Runner.build_dataloader(
        dict(
            batch_size=s['batch'],
            num_workers=workers,
            persistent_workers=workers > 0,
            pin_memory=False,
            drop_last=True,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            dataset=dict(
                type='CustomDataset',
                data_root=folder,
                with_label=False,
                pipeline=cfg['pipeline'])),
        seed=seed)
    after = None
    if hasattr(model, 'memory_bank'):
        after = model.memory_bank.commit  # MemoryBankHook.after_train_iter
    return Trainee(name, model, optim, loader, after)


def alternate(pirl: Trainee, moco: Trainee, warmup: int, iters: int,
              isolate: bool) -> None:
    for i in range(warmup + iters):
        order = (pirl, moco) if i % 2 == 0 else (moco, pirl)
        for t in order:
            other = moco if t is pirl else pirl
            if isolate:
                other.signal_workers(stop=True)
                t.signal_workers(stop=False)
            t.iteration(record=i >= warmup)
        print(
            f'[vs_mocov2] iteration {i + 1}/{warmup + iters}' +
            ('' if i >= warmup else ' (warm-up)') + ': PIRL '
            f'{pirl.total[-1] if i >= warmup else float("nan"):.3f} s, '
            f'MoCo v2 '
            f'{moco.total[-1] if i >= warmup else float("nan"):.3f} s',
            flush=True)


# ------------------------------------------------------------ breakdown
def _times(fn: Callable, repeat: int) -> List[float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def _count_flops(fn: Callable) -> float:
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc:
        fn()
    return float(fc.get_total_flops())


def _pipeline_ms(trainee: Trainee, num: int) -> float:
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
    from torch.utils.flop_counter import FlopCounterMode
    try:
        with FlopCounterMode(display=False) as fc:
            t.model.train_step(raw, t.optim)
        return float(fc.get_total_flops())
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
    idx = m.sample_indices(samples, fi0.device)
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
        ('NCE head (sampling, scoring, Z, loss), forward + backward', head_fb),
        ('  of which: negative sampling',
         lambda: bank.sample_negatives(idx, n, head.shared_negatives)),
        ('  of which: bank scoring (gather B x N rows), forward + backward',
         score_fb),
        ('  of which: float64 Z over B x N x 2 exps',
         lambda: head._update_z(neg_logits, None, bank.num_samples)),
        ('bank update (stage + commit)', bank_update),
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
        ('queue update', lambda: m._dequeue_and_enqueue(k)),
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


# ----------------------------------------------------------------- main
def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--size', choices=sorted(SIZES), default='demo')
    p.add_argument(
        '--warmup',
        type=int,
        default=None,
        help='untimed iterations of each model first')
    p.add_argument(
        '--iters',
        type=int,
        default=None,
        help='timed iterations of each model')
    p.add_argument(
        '--num-workers',
        type=int,
        default=None,
        help='data-loader workers of each model (same for both)')
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch.set_num_threads for both (default: torch\'s '
        'default, the number of cores)')
    p.add_argument('--batch', type=int, default=None)
    p.add_argument('--num-images', type=int, default=None)
    p.add_argument(
        '--channels-last',
        choices=['none', 'pirl', 'both'],
        default='none',
        help='channels-last memory format: PIRL through its '
        'config flag model.channels_last, MoCo v2 by converting '
        'the built model (default: none, as both ship)')
    p.add_argument(
        '--malloc',
        choices=['keep', 'default'],
        default='keep',
        help="keep: freed memory kept for reuse, as PIRLRunner "
        "does on CPU (pirl_plugin.utils.cpu_memory; one process, "
        "so both models); default: glibc's allocator as it is")
    p.add_argument(
        '--no-isolate-workers',
        action='store_true',
        help='let both loaders\' workers run all the time')
    p.add_argument(
        '--breakdown',
        action='store_true',
        help='also time the parts of one iteration of each')
    p.add_argument('--breakdown-repeat', type=int, default=3)
    p.add_argument('--top-ops', type=int, default=15)
    p.add_argument('--data-dir', default='data/bench_vs_mocov2')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', default=None)
    args = p.parse_args(argv)
    s = dict(SIZES[args.size])
    for key in ('batch', 'num_images', 'num_workers', 'warmup', 'iters'):
        if getattr(args, key) is not None:
            s[key] = getattr(args, key)
    out_path = args.out or f'vs_mocov2_{args.size}.json'
    kept = args.malloc == 'keep' and keep_freed_memory()
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    # what tools/train.py's Runner does with the default runtime's env_cfg
    set_multi_processing(mp_start_method='fork', opencv_num_threads=0)
    init_default_scope('mmpretrain')
    isolate = (not args.no_isolate_workers and s['num_workers'] > 0
               and hasattr(signal, 'SIGSTOP'))

    load_before = os.getloadavg()
    folder = make_images(s, args.data_dir)
    pcfg, mcfg = pirl_config(s), mocov2_config(s)
    pcfg['model']['channels_last'] = args.channels_last != 'none'
    pirl = build_trainee('PIRL', pcfg, s, folder, s['num_workers'], args.seed)
    moco = build_trainee('MoCo v2', mcfg, s, folder, s['num_workers'],
                         args.seed)
    if args.channels_last == 'both':
        moco.model.to(memory_format=torch.channels_last)
    if s['bank_size'] < len(pirl.loader.dataset):
        raise ValueError('the bank must have a row per image')

    def resume_all(*_):
        for t in (pirl, moco):
            t.signal_workers(stop=False)

    old_term = signal.signal(signal.SIGTERM, lambda *a:
                             (resume_all(), sys.exit(143)))
    try:
        alternate(pirl, moco, s['warmup'], s['iters'], isolate)
        bd = (
            breakdown(pirl, moco, args.breakdown_repeat, args.top_ops,
                      min(64, len(pirl.loader.dataset)))
            if args.breakdown else None)
    finally:
        resume_all()
        signal.signal(signal.SIGTERM, old_term)

    med = {t.name: statistics.median(t.total) for t in (pirl, moco)}
    # each PIRL iteration over the MoCo v2 iteration next to it: robust to
    # load that changes during the run (other processes on the cores)
    ratio = statistics.median(a / b for a, b in zip(pirl.total, moco.total))
    pixels = dict(
        pirl=3 * (s['img_size']**2 + 9 * s['patch_size']**2),
        mocov2=3 * s['moco_size']**2 + s['moco_size']**2)
    res = dict(
        size=args.size,
        depth=s['depth'],
        batch=s['batch'],
        pirl_views=dict(
            image=s['img_size'],
            patches=9,
            patch=s['patch_size'],
            jigsaw_crop=s['jigsaw_crop']),
        mocov2_views=dict(query=s['moco_size'], key=s['moco_size']),
        num_negatives=s['num_negatives'],
        bank_size=s['bank_size'],
        queue_len=s['queue_len'],
        loss_type=pcfg['model']['head'].get('loss_type'),
        num_images=len(pirl.loader.dataset),
        num_workers=s['num_workers'],
        isolate_workers=isolate,
        threads=threads,
        warmup=s['warmup'],
        iters=s['iters'],
        pirl_s_per_iter=med['PIRL'],
        mocov2_s_per_iter=med['MoCo v2'],
        ratio=ratio,
        ratio_of_medians=med['PIRL'] / med['MoCo v2'],
        target=TARGET,
        channels_last=args.channels_last,
        malloc=args.malloc,
        keep_freed_memory=kept,
        pixel_work_ratio=pixels['pirl'] / pixels['mocov2'],
        pirl_data_wait_s=statistics.median(pirl.data_wait),
        mocov2_data_wait_s=statistics.median(moco.data_wait),
        pirl_step_s=statistics.median(pirl.step),
        mocov2_step_s=statistics.median(moco.step),
        pirl_iter_s=pirl.total,
        mocov2_iter_s=moco.total,
        pirl_pipeline=repr(pirl.loader.dataset.pipeline),
        mocov2_pipeline=repr(moco.loader.dataset.pipeline),
        mocov2_jitter_note=('MMPretrain\'s ColorJitter(0.4, 0.4, 0.4, '
                            'hue=0.1) replaced by PIRLColorJitter with the '
                            'same parameters (numpy 2, DESIGN.md s. 4)'),
        machine=dict(
            cpus=os.cpu_count(),
            processor=platform.processor(),
            torch=torch.__version__,
            cuda=torch.cuda.is_available(),
            loadavg_1_5_15min_before=load_before,
            loadavg_1_5_15min_after=os.getloadavg()),
        date=time.strftime('%Y-%m-%d'))
    if bd is not None:
        res['breakdown'] = bd
    with open(out_path, 'w') as f:
        json.dump(res, f, indent=2)
    print(f'[vs_mocov2] {args.size}: PIRL {med["PIRL"]:.3f} s/iter, '
          f'MoCo v2 {med["MoCo v2"]:.3f} s/iter, ratio {ratio:.3f}')
    print(f'[vs_mocov2] ratio of the medians '
          f'{res["ratio_of_medians"]:.3f}; work ratio by pixels '
          f'{res["pixel_work_ratio"]:.3f}' +
          (f', by FLOPs {bd["flops_per_step"]["ratio"]:.3f}'
           if bd and bd['flops_per_step']['ratio'] else ''))
    print(f'[vs_mocov2] wrote {out_path}')
    return res


if __name__ == '__main__':
    main()
