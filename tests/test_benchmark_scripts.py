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
        [sys.executable, osp.join(BENCH, script), *args, '--out', out],
        cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out) as f:
        return json.load(f), proc.stdout


@pytest.mark.slow
def test_step_overhead_runs(tmp_path):
    res, out = _run('step_overhead.py', '--depth', '18', '--batch', '2',
                    '--img-size', '32', '--patch-size', '16', '--bank-size',
                    '64', '--num-negatives', '16', '--repeat', '1',
                    cwd=str(tmp_path))
    assert [r['shared_negatives'] for r in res['results']] == [False, True]
    assert all(r['ratio'] > 0 for r in res['results'])
    assert 'ratio' in out


def test_bank_ops_runs(tmp_path):
    res, out = _run('bank_ops.py', '--num-samples', '1000', '--batch', '4',
                    '--num-negatives', '64', '--dtype', 'float32',
                    '--repeat', '1', '--table-rows', '1000',
                    cwd=str(tmp_path))
    assert '[bank_ops]' in out
    assert res


@pytest.mark.slow
def test_data_pipeline_runs(tmp_path):
    res, out = _run('data_pipeline.py', '--data-dir',
                    str(tmp_path / 'jpegs'), '--num-images', '4', '--rounds',
                    '1', cwd=str(tmp_path))
    assert '[data_pipeline]' in out
    assert res


@pytest.mark.slow
def test_gpu_throughput_refuses_without_gpu_and_smoke_runs_on_cpu(tmp_path):
    import torch
    if not torch.cuda.is_available():
        proc = subprocess.run(
            [sys.executable, osp.join(BENCH, 'gpu_throughput.py')],
            cwd=str(tmp_path), capture_output=True, text=True, timeout=600)
        assert proc.returncode != 0
        assert 'no CUDA device' in proc.stderr
    res, out = _run('gpu_throughput.py', '--device', 'cpu', '--no-amp',
                    '--depth', '18', '--batch', '2', '--img-size', '32',
                    '--patch-size', '16', '--bank-size', '64',
                    '--num-negatives', '16', '--num-classes', '10',
                    '--warmup', '1', '--steps', '1', '--rounds', '1',
                    cwd=str(tmp_path))
    assert res['channels_last'] and not res['amp']
    assert res['ratio'] == pytest.approx(
        res['pirl_images_per_s'] / res['supervised_images_per_s'])
    assert 'ratio' in out
