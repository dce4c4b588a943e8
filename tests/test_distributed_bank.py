"""The memory bank and the NCE head across 2 CPU processes (gloo).

A reference is computed in this process on the global batch (world size 1);
two spawned ranks then compute the same step on their halves of the batch,
with the replicated and with the sharded bank, and must agree with it: the
losses (averaged over ranks as DDP does), the partition-function estimate,
the gradients, the committed bank and its checkpoint.
"""
import datetime
import os
import socket

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

WORLD = 2
M, D, N, B = 37, 8, 12, 3  # bank rows, dim, negatives, per-rank batch


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _inputs():
    gen = torch.Generator().manual_seed(123)
    idx = torch.randperm(M, generator=gen)[:WORLD * B]
    tf = torch.randn(WORLD * B, D, generator=gen)
    imf = torch.randn(WORLD * B, D, generator=gen)
    return idx, tf, imf


def _step(bank_type, shared, idx, tf, imf):
    """One PIRL loss step + bank update; returns what is compared."""
    from pirl_plugin.models.heads.nce_head import NCEHead
    from pirl_plugin.models.memories import MemoryBank, ShardedMemoryBank
    bank = dict(
        replicated=MemoryBank, sharded=ShardedMemoryBank)[bank_type](
            M, D, init_seed=3, chunk_size=2)
    bank.sampling_seed = 7
    bank.num_updates.fill_(5)
    head = NCEHead(
        loss_type='nce',
        temperature=0.1,
        num_negatives=N,
        shared_negatives=shared)
    tf = tf.clone().requires_grad_()
    imf = imf.clone().requires_grad_()
    losses = head.loss(tf, imf, idx, bank)
    (losses['loss_transform'] + losses['loss_image']).backward()
    bank.stage_update(idx, imf)
    bank.commit()
    return bank, head, losses, tf.grad, imf.grad


def _reference(shared):
    idx, tf, imf = _inputs()
    bank, head, losses, g_tf, g_imf = _step('replicated', shared, idx, tf, imf)
    return dict(
        loss_transform=losses['loss_transform'].detach(),
        loss_image=losses['loss_image'].detach(),
        z=head.z.clone(),
        g_tf=g_tf,
        g_imf=g_imf,
        bank=bank.bank.clone(),
        checksum=bank.checksum())


def _worker(rank, port, refs, errors):
    try:
        torch_dist.init_process_group(
            'gloo',
            init_method=f'tcp://127.0.0.1:{port}',
            rank=rank,
            world_size=WORLD,
            timeout=datetime.timedelta(seconds=120))
        _check_rank(rank, refs)
        # Both ranks done before either tears the group down: a peer that
        # closes its gloo connection while the other is still in a
        # collective aborts that process ("terminate called without an
        # active exception").
        torch_dist.barrier()
    except BaseException as e:  # report to the parent, then fail
        import traceback
        errors.put(f'rank {rank}: {traceback.format_exc()}')
        raise e
    finally:
        if torch_dist.is_initialized():
            torch_dist.destroy_process_group()


def _check_rank(rank, refs):
    from mmengine import dist

    from pirl_plugin.engine.hooks import BankConsistencyHook
    from pirl_plugin.models.memories import ShardedMemoryBank
    close = torch.testing.assert_close
    idx, tf, imf = _inputs()
    sl = slice(rank * B, (rank + 1) * B)
    for shared in (False, True):
        ref = refs[shared]
        for bank_type in ('replicated', 'sharded'):
            bank, head, losses, g_tf, g_imf = _step(bank_type, shared, idx[sl],
                                                    tf[sl], imf[sl])
            what = f'{bank_type} bank, shared={shared}'
            for k in ('loss_transform', 'loss_image'):
                mean = losses[k].detach().clone()
                dist.all_reduce(mean, op='mean')
                close(mean, ref[k], msg=f'{k} ({what})')
            # float64 accumulation of float32 logits: float32 precision
            close(head.z, ref['z'], rtol=1e-5, atol=0, msg=f'z ({what})')
            # DDP averages gradients over ranks: the global batch's mean
            close(g_tf / WORLD, ref['g_tf'][sl], msg=f'grad g ({what})')
            close(g_imf / WORLD, ref['g_imf'][sl], msg=f'grad f ({what})')
            assert abs(bank.checksum() - ref['checksum']) < 1e-6, what
            if bank_type == 'replicated':
                close(bank.bank, ref['bank'], msg=what)
                continue
            start, stop = bank.shard_range()
            assert bank.bank.shape == (stop - start, D)
            close(bank.bank, ref['bank'][start:stop], msg=what)
            close(bank.get(idx[sl]), ref['bank'][idx[sl]], msg=what)
            full = bank.gather_full()
            bank.prepare_checkpoint()
            state = bank.state_dict()
            if rank == 0:
                close(full, ref['bank'], msg=what)
                close(state['bank'], ref['bank'], msg=what)
            else:
                assert full is None
            # a full checkpoint loads into any number of shards
            fresh = ShardedMemoryBank(feat_dim=D)
            fresh.load_state_dict(
                dict(bank=ref['bank'], num_updates=torch.tensor(6)))
            close(fresh.bank, ref['bank'][start:stop])
            assert fresh.num_samples == M and int(fresh.num_updates) == 6

    # the debug check stops a run whose ranks' banks differ
    bank = _step('replicated', False, idx[sl], tf[sl], imf[sl])[0]
    BankConsistencyHook.check_consistency(bank, 10)  # identical: passes
    if rank == 1:
        bank.bank[0] = -bank.bank[0]
    with pytest.raises(
            RuntimeError, match='differs across ranks at iteration 11'):
        BankConsistencyHook.check_consistency(bank, 11)


def test_two_ranks_match_one_process():
    refs = {shared: _reference(shared) for shared in (False, True)}
    ctx = mp.get_context('spawn')
    errors = ctx.SimpleQueue()
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    try:
        mp.spawn(
            _worker,
            args=(_free_port(), refs, errors),
            nprocs=WORLD,
            join=True)
    except Exception as e:  # show the rank's own traceback
        msgs = []
        while not errors.empty():
            msgs.append(errors.get())
        raise AssertionError('\n'.join(msgs) or str(e)) from None
