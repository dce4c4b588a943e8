"""pirl_plugin.utils.cpu_memory: freed CPU memory is reused, not faulted in
again (what PIRLRunner turns on for CPU training)."""
import subprocess
import sys

import pytest
from conftest import REPO

_PROBE = r'''
import resource, sys
from pirl_plugin.utils.cpu_memory import keep_freed_memory
accepted = keep_freed_memory() if sys.argv[1] == 'keep' else None
import torch
def step():
    # a training step's pattern: large tensors (above glibc's 32 MiB
    # mmap-threshold ceiling) allocated, used and freed
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    xs = [torch.ones(n * 2**18) for n in (40, 64, 48, 64, 100)]  # MiB
    float(sum(x.sum() for x in xs))
    del xs
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
faults = [step() for _ in range(4)]
print(accepted, faults[-1])
'''


def _run(mode, env=None):
    import os
    full = dict(os.environ, PYTHONPATH=REPO, **(env or {}))
    out = subprocess.run([sys.executable, '-c', _PROBE, mode],
                         env=full,
                         capture_output=True,
                         text=True,
                         check=True).stdout
    accepted, faults = out.split()
    return accepted, int(faults)


@pytest.mark.skipif(
    not sys.platform.startswith('linux'), reason='glibc mallopt')
def test_steady_state_steps_reuse_the_freed_pages():
    # glibc as it is: every block is mmap'ed and unmapped every step, so its
    # 316 MiB (80,896 pages) are faulted in again at every step
    _, faults = _run('default')
    assert faults > 60000
    # kept: the fourth step reuses the heap the first one grew
    accepted, faults = _run('keep')
    assert accepted == 'True'
    assert faults < 2000
    # the switch turns it off
    accepted, faults = _run('keep', dict(PIRL_KEEP_FREED_MEMORY='0'))
    assert accepted == 'False' and faults > 60000
