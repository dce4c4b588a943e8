"""Pre-training runs of a same-budget comparison
(``tools/analysis/compare_mocov2.py``): the ``tools/train.py`` subprocess
that trains a method's config (written by
:mod:`pirl_plugin.utils.comparison_configs`), and what its checkpoint says
about collapse."""
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Optional


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint named by ``<work_dir>/last_checkpoint``, if it
    exists."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.exists(marker):
        return None
    with open(marker) as f:
        ckpt = f.read().strip()
    return ckpt if osp.isfile(ckpt) else None


# MMEngine's Runner dumps the config it runs into ``<work_dir>/<name>.py``
# (here over ``run_config.py``), adding these keys.
RUNNER_ADDED_KEYS = ('launcher', 'work_dir')


def _settings(path: str) -> dict:
    from mmengine.config import Config
    cfg = Config.fromfile(path).to_dict()
    return {k: v for k, v in cfg.items() if k not in RUNNER_ADDED_KEYS}


def _reusable(config_path: str, work_dir: str) -> Optional[dict]:
    """The finished run in ``work_dir`` when it trained the settings of
    ``config_path`` (the keys the runner adds left out), else None."""
    stamp = osp.join(work_dir, 'trained_config.py')
    ckpt = last_checkpoint(work_dir)
    if not (ckpt and osp.exists(stamp)):
        return None
    if _settings(stamp) != _settings(config_path):
        return None
    with open(osp.join(work_dir, 'train_seconds.txt')) as f:
        secs = float(f.read())
    return dict(checkpoint=ckpt, train_seconds=secs, reused=True)


def train_run(config_path: str,
              work_dir: str,
              reuse: bool = False,
              threads: Optional[int] = None) -> dict:
    """Train ``config_path`` with ``tools/train.py`` in a subprocess, its
    output in ``<work_dir>/train.log``.

    Args:
        config_path (str): the config to train.
        work_dir (str): the run's work dir.
        reuse (bool): skip training when ``work_dir`` holds a finished run
            of the identical config.
        threads (int, optional): OMP/MKL threads of the subprocess.

    Returns:
        dict: ``checkpoint``, ``train_seconds``, ``reused``.
    """
    done = _reusable(config_path, work_dir) if reuse else None
    if done:
        return done
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cmd = [
        sys.executable,
        osp.join(repo, 'tools', 'train.py'), config_path, '--work-dir',
        work_dir
    ]
    print('[compare] ' + ' '.join(cmd), flush=True)
    env = dict(os.environ)
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    with open(config_path) as f:
        settings = f.read()  # before the runner dumps its own over it
    log, t0 = osp.join(work_dir, 'train.log'), time.time()
    with open(log, 'w') as f:
        proc = subprocess.run(
            cmd, stdout=f, stderr=subprocess.STDOUT, cwd=repo, env=env)
    secs = time.time() - t0
    if proc.returncode != 0:
        with open(log) as f:
            tail = f.read()[-4000:]
        raise RuntimeError(f'training failed ({" ".join(cmd)}), the end of '
                           f'{log}:\n{tail}')
    ckpt = last_checkpoint(work_dir)
    if ckpt is None:
        raise RuntimeError(f'no checkpoint in {work_dir} after training')
    with open(osp.join(work_dir, 'trained_config.py'), 'w') as f:
        f.write(settings)
    with open(osp.join(work_dir, 'train_seconds.txt'), 'w') as f:
        f.write(f'{secs:.1f}')
    return dict(checkpoint=ckpt, train_seconds=secs, reused=False)


def checkpoint_negatives_stats(checkpoint: str) -> dict:
    """Mean pairwise cosine similarity of PIRL's memory bank
    (``bank_pairwise_sim``) or MoCo's queue (``queue_pairwise_sim``) in a
    checkpoint."""
    from pirl_plugin.evaluation.probe import mean_pairwise_cosine
    from pirl_plugin.utils.checkpoints import load_checkpoint
    state = load_checkpoint(checkpoint)
    state = state.get('state_dict', state)
    out = {}
    for key, val in state.items():
        if key.endswith('memory_bank.bank') and val.dim() == 2:
            out['bank_pairwise_sim'] = mean_pairwise_cosine(val)
        elif key.split('.')[-1] == 'queue' and val.dim() == 2:
            out['queue_pairwise_sim'] = mean_pairwise_cosine(val.T)
    return out
