"""The parts of one PIRL and one MoCo v2 training iteration, timed on one
real batch (``tools/benchmarks/vs_mocov2.py --breakdown``)."""
import statistics
import time
from typing import Callable, Dict, List, Optional

from .step_parts import Parts, moco_parts, pirl_parts
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
