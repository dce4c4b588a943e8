"""Multi-process training through tools/dist_train.sh (gloo, CPU) and exact
resume through tools/train.py, end to end.

* 2 processes x 4 images must equal 1 process x 8 images: same global
  batch and seed, GroupNorm (no per-rank batch statistics) and a
  deterministic pipeline (no random augmentation drawn per rank), so only
  the summation order differs. Each rank dumps its bank (test hook in
  tests/helpers), and BankConsistencyHook's cross-rank check runs every
  iteration.
* 2 iterations + ``--resume`` + 2 iterations must equal 4 in one go, with
  the demo's random augmentation (num_workers=0), which the RNG states in
  the checkpoint make reproducible.
"""
import glob
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from conftest import REPO, run_tool

HELPERS = osp.join(REPO, 'tests', 'helpers')
DEMO = osp.join(REPO, 'configs', 'pirl',
                'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')

COMMON = """
_base_ = [{demo!r}]
custom_imports = dict(imports=['pirl_plugin', 'dump_bank_hook'],
                      allow_failed_imports=False)
model = dict(head=dict(num_negatives=8){backbone})
train_dataloader = dict(
    batch_size={batch}, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={data!r}, indices=16{pipeline}))
custom_hooks = [
    dict(type='BankUpdateHook'),
    dict(type='CollapseGuardHook'),
    dict(type='BankConsistencyHook', interval=1),
    dict(type='RNGStateHook'),
    dict(type='DumpBankHook'),
]
train_cfg = dict(max_epochs=2)
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=2, eta_min_ratio=1e-2, by_epoch=True,
         begin=0, end=2, convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, max_keep_ckpts=3))
log_processor = dict(window_size=1)
"""

DETERMINISTIC = """,
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='PIRLJigsawTransform', img_size=64,
             img_crop_scale=(1.0, 1.0), img_flip_prob=0.0, img_jitter=None,
             jigsaw_crop_size=96, jigsaw_crop_scale=(1.0, 1.0),
             patch_size=32, patch_jitter=None, permutations=1),
        dict(type='PackInputs'),
    ]"""

GN = (", backbone=dict(norm_cfg=dict(type='GN', num_groups=8, "
      "requires_grad=True))")


def write_config(tmp_path, name, data, batch, deterministic):
    path = tmp_path / f'{name}.py'
    path.write_text(
        COMMON.format(
            demo=DEMO,
            data=data,
            batch=batch,
            backbone=GN if deterministic else '',
            pipeline=DETERMINISTIC if deterministic else ''))
    return str(path)


def env():
    return {
        'PYTHONPATH': HELPERS + os.pathsep + os.environ.get('PYTHONPATH', ''),
        'OMP_NUM_THREADS': '1'
    }


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def dist_train(config, work_dir, gpus, *args):
    full_env = dict(os.environ)
    full_env.update(env())
    full_env['PYTHONPATH'] = REPO + os.pathsep + full_env['PYTHONPATH']
    full_env.update(PYTHON=sys.executable, PORT=str(free_port()))
    proc = subprocess.run([
        'bash', 'tools/dist_train.sh', config,
        str(gpus), '--work-dir', work_dir, *args
    ],
                          cwd=REPO,
                          env=full_env,
                          capture_output=True,
                          text=True,
                          timeout=900)
    assert proc.returncode == 0, (proc.stdout[-3000:] + proc.stderr[-6000:])
    return proc


FAKE_SRUN = r"""#!/usr/bin/env bash
# Test stand-in for Slurm's srun: runs --ntasks copies of the command on
# this machine with the SLURM_* variables srun would set.
ntasks=1
while [ $# -gt 0 ]; do
  case "$1" in
    -p) shift 2 ;;
    --ntasks=*) ntasks=${1#*=}; shift ;;
    --*) shift ;;
    *) break ;;
  esac
done
pids=()
for ((i = 0; i < ntasks; i++)); do
  SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_NTASKS=$ntasks \
  SLURM_NODELIST=localhost "$@" &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=$?; done
exit $rc
"""

FAKE_SCONTROL = """#!/usr/bin/env bash
echo 127.0.0.1
"""


def slurm_train(config, work_dir, gpus, tmp_path, *args):
    """tools/slurm_train.sh with srun/scontrol stand-ins on PATH."""
    bin_dir = tmp_path / 'fake_slurm'
    bin_dir.mkdir()
    for name, text in (('srun', FAKE_SRUN), ('scontrol', FAKE_SCONTROL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    full_env = dict(os.environ)
    full_env.update(env())
    full_env['PYTHONPATH'] = REPO + os.pathsep + full_env['PYTHONPATH']
    full_env.update(
        PYTHON=sys.executable,
        GPUS=str(gpus),
        GPUS_PER_NODE=str(gpus),
        MASTER_PORT=str(free_port()),
        PATH=str(bin_dir) + os.pathsep + full_env['PATH'])
    proc = subprocess.run([
        'bash', 'tools/slurm_train.sh', 'cpu', 'pirl-test', config, work_dir,
        *args
    ],
                          cwd=REPO,
                          env=full_env,
                          capture_output=True,
                          text=True,
                          timeout=900)
    assert proc.returncode == 0, (proc.stdout[-3000:] + proc.stderr[-6000:])
    return proc


def load(path):
    return torch.load(path, map_location='cpu')  # weights_only default


def assert_state_close(a, b, atol, rtol, skip=()):
    assert a.keys() == b.keys()
    for k in a:
        if any(s in k for s in skip) or not a[k].is_floating_point():
            continue
        torch.testing.assert_close(
            a[k], b[k], atol=atol, rtol=rtol, msg=lambda m: f'{k}: {m}')


@pytest.mark.slow
@pytest.mark.parametrize(
    'launcher,bank_type,broadcast',
    [
        ('dist_train', 'MemoryBank', False),
        ('slurm', 'ShardedMemoryBank', False),
        # the exact-VISSL configs' broadcast_buffers=True: DDP must leave
        # the bank (each rank's own shard here) alone
        ('dist_train', 'ShardedMemoryBank', True),
    ])
def test_two_processes_equal_one(shapes_root, tmp_path, launcher, bank_type,
                                 broadcast):
    data = osp.join(shapes_root, 'train')
    one = write_config(tmp_path, 'one', data, 8, True)
    two = write_config(tmp_path, 'two', data, 4, True)
    w1, w2 = str(tmp_path / 'w1'), str(tmp_path / 'w2')
    opts = [f'model.memory_bank.type={bank_type}']
    if broadcast:
        opts.append('model_wrapper_cfg.broadcast_buffers=True')
    run_tool([
        'tools/train.py', one, '--work-dir', w1, '--cfg-options',
        'model.memory_bank.type=MemoryBank'
    ],
             env=env())
    if launcher == 'dist_train':
        dist_train(two, w2, 2, '--cfg-options', *opts)
    else:
        slurm_train(two, w2, 2, tmp_path, '--cfg-options', *opts)
    logs = open(glob.glob(osp.join(w2, '*', '*.log'))[0]).read()
    assert 'GPU number: 2' in logs and 'Distributed training: True' in logs

    # every rank's bank (or shard) equals the 1-process bank
    ref = torch.load(osp.join(w1, 'bank_rank0.pt'))
    assert ref['num_updates'] == 4
    ranks = [torch.load(osp.join(w2, f'bank_rank{r}.pt')) for r in range(2)]
    for r, got in enumerate(ranks):
        assert got['num_updates'] == 4
        rows = ref['bank'][got['start']:got['stop']]
        torch.testing.assert_close(
            got['bank'],
            rows,
            atol=2e-5,
            rtol=1e-4,
            msg=lambda m: f'rank {r}: {m}')
        assert abs(got['checksum'] - ref['checksum']) < 1e-2
    if bank_type == 'MemoryBank':
        assert torch.equal(ranks[0]['bank'], ranks[1]['bank'])
    else:
        assert ranks[0]['stop'] == ranks[1]['start'] == 8

    # rank 0's checkpoint (full bank even when sharded) equals the 1-process
    c1 = load(osp.join(w1, 'epoch_2.pth'))
    c2 = load(osp.join(w2, 'epoch_2.pth'))
    assert c2['state_dict']['memory_bank.bank'].shape == (16, 128)
    assert_state_close(c1['state_dict'], c2['state_dict'], 2e-5, 1e-4)
    assert len(c2['rng_states']) == 2  # both ranks' RNG states


def scalars(work_dir):
    rows = {}
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')):
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if 'loss' in row:
                    rows[row['iter']] = row
    return rows


@pytest.mark.slow
def test_resume_equals_uninterrupted_run(shapes_root, tmp_path):
    cfg = write_config(tmp_path, 'resume', osp.join(shapes_root, 'train'), 8,
                       False)
    w_all, w_split = str(tmp_path / 'all'), str(tmp_path / 'split')
    run_tool(['tools/train.py', cfg, '--work-dir', w_all], env=env())
    # stop after epoch 1 (2 iterations), then resume for epoch 2
    run_tool([
        'tools/train.py', cfg, '--work-dir', w_split, '--cfg-options',
        'train_cfg.max_epochs=1'
    ],
             env=env())
    assert not osp.exists(osp.join(w_split, 'epoch_2.pth'))
    proc = run_tool(['tools/train.py', cfg, '--work-dir', w_split, '--resume'],
                    env=env())
    assert 'resumed epoch: 1, iter: 2' in proc.stdout + proc.stderr

    a = scalars(w_all)
    b = scalars(w_split)
    assert sorted(a) == sorted(b) == [1, 2, 3, 4]
    for it in (3, 4):  # after the resume
        for key in ('loss', 'loss_transform', 'loss_image', 'z_image',
                    'z_transform', 'bank_feat_sim'):
            assert a[it][key] == pytest.approx(
                b[it][key], rel=1e-5, abs=1e-6), (it, key)
    c_all = load(osp.join(w_all, 'epoch_2.pth'))
    c_split = load(osp.join(w_split, 'epoch_2.pth'))
    assert_state_close(c_all['state_dict'], c_split['state_dict'], 1e-6, 1e-5)
    assert int(c_split['state_dict']['memory_bank.num_updates']) == 4
    for sa, sb in zip(c_all['optimizer']['state'].values(),
                      c_split['optimizer']['state'].values()):
        torch.testing.assert_close(
            sa['momentum_buffer'], sb['momentum_buffer'], atol=1e-6, rtol=1e-5)
