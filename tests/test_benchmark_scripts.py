"""Smoke runs of the benchmark scripts under tools/benchmarks/ on tiny
sizes: they run, and their JSON carries the figures the README quotes.
Timings are never asserted (benchmarks measure; tests check)."""
import json
import os.path as osp
import subprocess
import sys

import pytest
from conftest import REPO

BENCH = osp.join(REPO, 'tools', 'benchmarks')


def _run(script, *args, cwd):
    out = osp.join(cwd, 'out.json')
    proc = subprocess.run(
        [sys.executable,
         osp.join(BENCH, script), *args, '--out', out],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out) as f:
        return json.load(f), proc.stdout


@pytest.mark.slow
def test_step_overhead_runs(tmp_path):
    res, out = _run(
        'step_overhead.py',
        '--depth',
        '18',
        '--batch',
        '2',
        '--img-size',
        '32',
        '--patch-size',
        '16',
        '--bank-size',
        '64',
        '--num-negatives',
        '16',
        '--repeat',
        '1',
        cwd=str(tmp_path))
    assert [r['shared_negatives'] for r in res['results']] == [False, True]
    assert all(r['ratio'] > 0 for r in res['results'])
    assert 'ratio' in out


def test_bank_ops_runs(tmp_path):
    res, out = _run(
        'bank_ops.py',
        '--num-samples',
        '1000',
        '--batch',
        '4',
        '--num-negatives',
        '64',
        '--dtype',
        'float32',
        '--repeat',
        '1',
        '--table-rows',
        '1000',
        '--score-modes',
        cwd=str(tmp_path))
    assert '[bank_ops]' in out and 'scorers: gather' in out
    per_sample = [r for r in res['results'] if not r['shared_negatives']]
    assert per_sample and all(r['ms']['gather_score_fwd_bwd'] > 0
                              and r['ms']['dense_score_fwd_bwd'] > 0
                              for r in per_sample)
    # M = 1000 <= 16 x N = 1024: 'auto' scores densely
    assert per_sample[0]['score_mode'] == 'dense'


@pytest.mark.slow
def test_data_pipeline_runs(tmp_path):
    res, out = _run(
        'data_pipeline.py',
        '--data-dir',
        str(tmp_path / 'jpegs'),
        '--num-images',
        '4',
        '--rounds',
        '1',
        cwd=str(tmp_path))
    assert '[data_pipeline]' in out
    assert res


@pytest.mark.slow
def test_gpu_throughput_refuses_without_gpu_and_smoke_runs_on_cpu(tmp_path):
    import torch
    if not torch.cuda.is_available():
        proc = subprocess.run(
            [sys.executable,
             osp.join(BENCH, 'gpu_throughput.py')],
            cwd=str(tmp_path),
            capture_output=True,
            text=True,
            timeout=600)
        assert proc.returncode != 0
        assert 'no CUDA device' in proc.stderr
    res, out = _run(
        'gpu_throughput.py',
        '--device',
        'cpu',
        '--no-amp',
        '--depth',
        '18',
        '--batch',
        '2',
        '--img-size',
        '32',
        '--patch-size',
        '16',
        '--bank-size',
        '64',
        '--num-negatives',
        '16',
        '--num-classes',
        '10',
        '--warmup',
        '1',
        '--steps',
        '1',
        '--rounds',
        '1',
        cwd=str(tmp_path))
    assert res['channels_last'] and not res['amp']
    assert res['ratio'] == pytest.approx(res['pirl_images_per_s'] /
                                         res['supervised_images_per_s'])
    assert 'ratio' in out


@pytest.mark.slow
def test_vs_mocov2_tiny_runs(tmp_path):
    """PIRL and MMPretrain's MoCo v2 trained alternately, data loading
    included (one worker each, stopped while the other model runs)."""
    res, out = _run(
        'vs_mocov2.py',
        '--size',
        'tiny',
        '--data-dir',
        str(tmp_path / 'data'),
        cwd=str(tmp_path))
    assert res['pirl_s_per_iter'] > 0 and res['mocov2_s_per_iter'] > 0
    assert res['ratio'] > 0
    assert res['ratio_of_medians'] == pytest.approx(res['pirl_s_per_iter'] /
                                                    res['mocov2_s_per_iter'])
    assert len(res['pirl_iter_s']) == len(res['mocov2_iter_s']) == 2
    assert res['num_workers'] == 1 and res['isolate_workers']
    assert 'PIRLColorJitter' in res['mocov2_pipeline']
    assert '[vs_mocov2] tiny: PIRL ' in out and 'ratio' in out
