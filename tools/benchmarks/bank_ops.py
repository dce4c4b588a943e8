"""Memory-bank benchmark: time per training step of each bank operation and
the bank's memory, for an ImageNet-size bank.

For each storage type and batch size, one "step" is what PIRL does per
iteration: draw the negatives, read the positives, score the 2 queries per
data point (g(v_It) and f(v_I)) against N negatives with backward through
the queries, and stage + commit the update. Each operation is timed
separately (median over ``--repeat`` steps after ``--warmup``), and the
chunked scoring is compared with the naive ``bank[idx] @ q`` that
materialises a ``B x N x D`` tensor (timed in the same process, alternating).

    python tools/benchmarks/bank_ops.py                       # defaults below
    python tools/benchmarks/bank_ops.py --num-samples 100000 --repeat 3

Writes JSON (``--out``) and prints one summary line per configuration. The
memory table (replicated vs sharded per GPU, float32 / float16) is computed
from the bank's actual buffer size (``bank.bank.nbytes``) divided as
:class:`ShardedMemoryBank` divides the rows.
"""
import argparse
import json
import os.path as osp
import statistics
import time
from typing import Callable, Dict

import torch

from pirl_plugin.models.memories import MemoryBank
from pirl_plugin.utils.benchmarking import timed

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'pirl',
                  'pirl_resnet50_8xb32-coslr-800e_in1k.py')


def bench(num_samples: int,
          feat_dim: int,
          batch: int,
          num_neg: int,
          dtype: str,
          shared: bool,
          device: str,
          warmup: int,
          repeat: int,
          naive: bool,
          modes: bool = False) -> dict:
    sync = (
        torch.cuda.synchronize if device.startswith('cuda') else
        (lambda: None))
    bank = MemoryBank(num_samples, feat_dim, dtype=dtype).to(device)
    gen = torch.Generator().manual_seed(0)
    times = {
        k: []
        for k in ('sample', 'positives', 'score_fwd_bwd', 'update',
                  'naive_score_fwd_bwd', 'gather_score_fwd_bwd',
                  'dense_score_fwd_bwd')
    }
    for step in range(warmup + repeat):
        idx = torch.randint(num_samples, (batch, ), generator=gen).to(device)
        q = torch.nn.functional.normalize(
            torch.randn(batch, 2, feat_dim, generator=gen), dim=2).to(device)
        q.requires_grad_()
        t = time_step(bank, idx, q, num_neg, shared, sync, modes, naive)
        if step >= warmup:
            for k, v in t.items():
                times[k].append(v)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items() if v}
    total = sum(v for k, v in med.items()
                if k in ('sample', 'positives', 'score_fwd_bwd', 'update'))
    res = dict(
        num_samples=num_samples,
        feat_dim=feat_dim,
        batch=batch,
        num_negatives=num_neg,
        dtype=dtype,
        shared_negatives=shared,
        score_mode=('shared' if shared else
                    'dense' if bank.uses_dense_scores(num_neg) else 'gather'),
        device=device,
        bank_mib=bank.bank.nbytes / 2**20,
        ms=med,
        total_ms=total)
    if naive and not shared:
        # what the naive gather keeps alive for backward
        res['naive_gather_mib'] = batch * num_neg * feat_dim * 4 / 2**20
        res['chunked_gather_mib'] = (
            bank.chunk_size * num_neg * feat_dim * 4 / 2**20)
    return res


def time_step(bank: MemoryBank, idx: torch.Tensor, q: torch.Tensor,
              num_neg: int, shared: bool, sync: Callable, modes: bool,
              naive: bool) -> Dict[str, float]:
    """Time each bank operation of one PIRL step.

    Args:
        bank (MemoryBank): the bank.
        idx (Tensor): ``(B,)`` indices of the batch.
        q (Tensor): ``(B, 2, D)`` unit queries requiring grad.
        num_neg (int): negatives per data point.
        shared (bool): one draw of negatives per batch.
        sync (callable): device synchronisation.
        modes (bool): also time both scorers of per-sample negatives.
        naive (bool): also time the naive ``B x N x D`` gather.

    Returns:
        dict: seconds per operation.
    """
    out = {}
    t = dict(
        sample=timed(
            lambda: out.__setitem__(
                'neg', bank.sample_negatives(idx, num_neg, shared)), sync))
    t['positives'] = timed(lambda: bank.get(idx), sync)

    def score():
        s = bank.score(q, out['neg'])
        s.exp().sum().backward()

    t['score_fwd_bwd'] = timed(score, sync)
    if modes and not shared:
        # both scorers of per-sample negatives, whatever 'auto' picks
        for mode in ('gather', 'dense'):
            bank.score_mode = mode
            t[f'{mode}_score_fwd_bwd'] = timed(score, sync)
        bank.score_mode = 'auto'
    if naive:

        def naive_score():
            rows = bank.bank[out['neg']].float()  # B, N, D (or N, D)
            if rows.dim() == 2:
                s = torch.einsum('nd,bkd->bnk', rows, q)
            else:
                s = torch.bmm(rows, q.transpose(1, 2))
            s.exp().sum().backward()

        t['naive_score_fwd_bwd'] = timed(naive_score, sync)
    feats = q[:, 1].detach()
    t['update'] = timed(lambda: (bank.stage_update(idx, feats), bank.commit()),
                        sync)
    return t


def memory_table(num_samples: int, feat_dim: int, worlds) -> list:
    rows = []
    for dtype in ('float32', 'float16'):
        nbytes = MemoryBank(2, feat_dim, dtype=dtype).bank.element_size()
        full = num_samples * feat_dim * nbytes
        for w in worlds:
            shard_rows = -(-num_samples // w)  # ShardedMemoryBank.shard_range
            rows.append(
                dict(
                    dtype=dtype,
                    world_size=w,
                    replicated_gib=full / 2**30,
                    sharded_gib=shard_rows * feat_dim * nbytes / 2**30))
    return rows


def parse_args(argv=None) -> argparse.Namespace:
    """The command line of this benchmark."""
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--num-samples', type=int, default=1281167)
    p.add_argument('--feat-dim', type=int, default=128)
    p.add_argument('--batch', type=int, nargs='+', default=[32, 256])
    p.add_argument('--num-negatives', type=int, default=32000)
    p.add_argument('--dtype', nargs='+', default=['float32', 'float16'])
    p.add_argument('--shared', choices=['no', 'yes', 'both'], default='both')
    p.add_argument('--device', default='cpu')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--repeat', type=int, default=5)
    p.add_argument(
        '--naive-max-batch',
        type=int,
        default=32,
        help='time the naive B x N x D gather (for comparison) '
        'only up to this batch; 0 disables it')
    p.add_argument(
        '--score-modes',
        action='store_true',
        help='also time both scorers of per-sample negatives '
        '(gather and dense) in each step, whichever the bank\'s '
        "'auto' picks")
    p.add_argument(
        '--table-rows',
        type=int,
        nargs='+',
        default=[1281167, 14197122],
        help='bank sizes for the memory table (IN-1k, IN-22k)')
    p.add_argument(
        '--reference-step',
        type=int,
        default=0,
        metavar='DEPTH',
        help='also time a ResNet-DEPTH backbone forward+backward '
        'at the first --batch (224 image view + 9 64x64 patches, '
        'as tools/benchmarks/step_overhead.py) in this process, '
        'and report each bank step as a fraction of it')
    p.add_argument('--out', default='bank_ops.json')
    return p.parse_args(argv)


def summary_line(r: dict) -> str:
    """The printed summary of one :func:`bench` result."""
    ms = r['ms']
    naive = (f" | naive gather {ms['naive_score_fwd_bwd']:.1f} ms"
             if 'naive_score_fwd_bwd' in ms else '')
    if 'dense_score_fwd_bwd' in ms:
        naive += (f" | scorers: gather "
                  f"{ms['gather_score_fwd_bwd']:.1f} ms, dense "
                  f"{ms['dense_score_fwd_bwd']:.1f} ms "
                  f"(auto: {r['score_mode']})")
    return (f"[bank_ops] {r['dtype']} B={r['batch']} N={r['num_negatives']} "
            f"{'shared' if r['shared_negatives'] else 'per-sample'}: "
            f"total {r['total_ms']:.1f} ms/step (sample "
            f"{ms['sample']:.1f}, positives {ms['positives']:.2f}, "
            f"score fwd+bwd {ms['score_fwd_bwd']:.1f}, update "
            f"{ms['update']:.2f}){naive}; bank "
            f"{r['bank_mib']:.0f} MiB")


def reference_step(args: argparse.Namespace, results: list) -> dict:
    """Time a backbone step and add each bank step's fraction of it.

    Args:
        args (Namespace): the parsed command line (``reference_step`` is
            the ResNet depth).
        results (list[dict]): :func:`bench` results, changed in place.

    Returns:
        dict: ``depth``, ``batch`` and ``backbone_step_ms``.
    """
    from pirl_plugin.utils.benchmarking import (backbone_step, build_pirl,
                                                make_inputs)
    model, _ = build_pirl(CONFIG, args.reference_step, 1000, 16, 'nce', False,
                          args.device)
    inputs, _ = make_inputs(args.batch[0], 224, 64, 1000, args.device)
    ts = []
    for i in range(args.warmup + max(args.repeat // 2, 1)):
        t = time.perf_counter()
        backbone_step(model, inputs)
        if i >= args.warmup:
            ts.append(time.perf_counter() - t)
    ref = dict(
        depth=args.reference_step,
        batch=args.batch[0],
        backbone_step_ms=statistics.median(ts) * 1e3)
    for r in results:
        if r['batch'] == args.batch[0]:
            r['fraction_of_backbone_step'] = (
                r['total_ms'] / ref['backbone_step_ms'])
            print(f"[bank_ops] {r['dtype']} B={r['batch']} "
                  f"{'shared' if r['shared_negatives'] else 'per-sample'}"
                  f": bank ops = {100 * r['fraction_of_backbone_step']:.1f}"
                  f"% of a ResNet-{args.reference_step} backbone step "
                  f"({ref['backbone_step_ms'] / 1e3:.2f} s)")
    return ref


def main(argv=None):
    args = parse_args(argv)
    shared = dict(no=[False], yes=[True], both=[False, True])[args.shared]
    results = []
    for dtype in args.dtype:
        for b in args.batch:
            for sh in shared:
                r = bench(args.num_samples, args.feat_dim, b,
                          args.num_negatives, dtype, sh, args.device,
                          args.warmup, args.repeat, b <= args.naive_max_batch,
                          args.score_modes)
                results.append(r)
                print(summary_line(r), flush=True)
    ref = reference_step(args, results) if args.reference_step else None
    table = {
        str(n): memory_table(n, args.feat_dim, (1, 8, 32))
        for n in args.table_rows
    }
    for n, rows in table.items():
        for row in rows:
            print(f"[bank_ops] memory {n} x {args.feat_dim} {row['dtype']} "
                  f"world {row['world_size']}: replicated "
                  f"{row['replicated_gib']:.2f} GiB/GPU, sharded "
                  f"{row['sharded_gib']:.3f} GiB/GPU")
    with open(args.out, 'w') as f:
        json.dump(
            dict(
                results=results,
                memory=table,
                reference_step=ref,
                torch=torch.__version__,
                threads=torch.get_num_threads()),
            f,
            indent=2)
    print(f'[bank_ops] wrote {args.out}')


if __name__ == '__main__':
    main()
