import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(REPO, 'tools'))

os.environ.setdefault('OMP_NUM_THREADS', '2')


def run_tool(args, cwd=REPO, env=None, timeout=900, check=True):
    """Run a repository tool with this interpreter; return the process."""
    full_env = dict(os.environ)
    full_env['PYTHONPATH'] = REPO + os.pathsep + full_env.get('PYTHONPATH', '')
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable] + list(args),
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{args} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n'
            f'{proc.stderr[-6000:]}')
    return proc


@pytest.fixture(scope='session')
def shapes_root(tmp_path_factory):
    """A tiny shapes dataset (10 classes x 6 train / 2 test, 96 px)."""
    from pirl_plugin.datasets.synthetic import make_shapes_dataset
    root = str(tmp_path_factory.mktemp('shapes'))
    make_shapes_dataset(root, train_per_class=6, test_per_class=2, size=96)
    return root


@pytest.fixture
def rng():
    return np.random.default_rng(0)
