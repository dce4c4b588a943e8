"""A task's resolved config and the command that runs it: the existing
tools (``tools/train.py``, ``tools/det_train.py``, ``tools/voc07_svm.py``)
directly, through ``tools/dist_train.sh`` (torchrun) or through
``tools/slurm_train.sh``."""
import os
import os.path as osp
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config

from .arch import (ResNetArch, apply_backbone, apply_c4_detector,
                   set_data_root, set_pretrained)
from .spec import REPO, Task

TOOLS = osp.join(REPO, 'tools')
DEFAULT_TOOLS = dict(train='train.py', det='det_train.py', svm='voc07_svm.py')


@dataclass
class Launch:
    """How training tasks are started.

    Args:
        launcher (str): ``'none'`` (one process), ``'pytorch'``
            (``tools/dist_train.sh``) or ``'slurm'``
            (``tools/slurm_train.sh``).
        gpus (int): processes (GPUs) per task for ``pytorch`` and
            ``slurm``.
        partition (str, optional): the Slurm partition.
        job_name (str): prefix of the Slurm job names.
    """
    launcher: str = 'none'
    gpus: int = 1
    partition: Optional[str] = None
    job_name: str = 'pirl_eval'


def resolve_config(task: Task, arch: ResNetArch, backbone: str, root: str,
                   cfg_options: Optional[dict], out: str) -> Config:
    """The task's config with the backbone's shape, weights and data root
    applied, then the suite's and the user's options; written to ``out``.

    Returns:
        Config: the resolved config.
    """
    if not osp.isfile(task.config):
        raise FileNotFoundError(f'task {task.name!r}: config '
                                f'{task.config!r} not found')
    cfg = Config.fromfile(task.config)
    if task.kind == 'det':
        apply_c4_detector(cfg, arch)
    else:
        apply_backbone(cfg, arch)
    if task.kind == 'train':
        set_pretrained(cfg, backbone)
    if task.kind != 'svm':
        set_data_root(cfg, root)
    for options in (task.cfg_options, cfg_options):
        if options:
            cfg.merge_from_dict(dict(options))
    os.makedirs(osp.dirname(out), exist_ok=True)
    cfg.dump(out)
    return cfg


def _tool(task: Task) -> str:
    return task.tool or osp.join(TOOLS, DEFAULT_TOOLS[task.kind])


def svm_command(task: Task, cfg_path: str, backbone: str, root: str,
                task_dir: str, launch: Launch) -> List[str]:
    """``tools/voc07_svm.py`` on one process (one GPU under Slurm)."""
    cmd = [
        sys.executable,
        _tool(task), cfg_path, backbone, '--data-root', root, '--out',
        osp.join(task_dir, 'result.json'), '--cache-dir',
        osp.join(task_dir, 'feature_cache')
    ] + list(task.args)
    if launch.launcher == 'slurm':
        cmd = [
            'srun', '-p', launch.partition, f'--job-name={launch.job_name}_'
            f'{task.name}', '--gres=gpu:1', '--ntasks=1'
        ] + cmd
    return cmd


def train_command(task: Task, cfg_path: str, backbone: str, task_dir: str,
                  launch: Launch,
                  resume: bool) -> Tuple[List[str], Dict[str, str]]:
    """The training tool under the chosen launcher, and the environment
    it needs (``TRAIN_SCRIPT`` and ``PYTHON`` for the shell launchers)."""
    extra = [backbone] if task.kind == 'det' else []
    extra += ['--resume'] if resume else []
    extra += list(task.args)
    env = dict(TRAIN_SCRIPT=_tool(task), PYTHON=sys.executable)
    if launch.launcher == 'pytorch':
        return [
            'bash',
            osp.join(TOOLS, 'dist_train.sh'), cfg_path,
            str(launch.gpus), '--work-dir', task_dir
        ] + extra, env
    if launch.launcher == 'slurm':
        env['GPUS'] = str(launch.gpus)
        return [
            'bash',
            osp.join(TOOLS, 'slurm_train.sh'), launch.partition,
            f'{launch.job_name}_{task.name}', cfg_path, task_dir
        ] + extra, env
    return [sys.executable,
            _tool(task), cfg_path, '--work-dir', task_dir] + extra, {}


def build_command(task: Task, cfg_path: str, backbone: str, root: str,
                  task_dir: str, launch: Launch,
                  resume: bool) -> Tuple[List[str], Dict[str, str]]:
    """The task's command line and extra environment variables."""
    if task.kind == 'svm':
        return svm_command(task, cfg_path, backbone, root, task_dir,
                           launch), {}
    return train_command(task, cfg_path, backbone, task_dir, launch, resume)
