"""Running the tasks of ``tools/eval_suite.py`` one after another, with
resumption: each task keeps ``suite_task.json`` in its work directory
(status, the fingerprint of checkpoint, config and data root, its figures
and its log). A finished task with the same fingerprint is not re-run, an
interrupted one continues (``--resume``), a failing one is reported and
the next one starts, and Ctrl-C stops the running tool in order."""
import hashlib
import json
import os
import os.path as osp
import shutil
import signal
import subprocess
import time
from typing import Dict, List, Optional

from pirl_plugin.utils.run_logs import newest_run
from .commands import Launch, build_command, resolve_config
from .metrics import (MetricError, last_step, read_json_metrics,
                      read_scalars_metrics)
from .spec import Task

STATE = 'suite_task.json'


def file_digest(path: str, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(ckpt_digest: str, cfg_text: str, root: str,
                cmd_args: List[str]) -> str:
    """What makes a task's result valid: the checkpoint's bytes, the
    resolved config, the data root and the tool's own arguments."""
    text = '\n'.join([ckpt_digest, cfg_text, osp.abspath(root)] + cmd_args)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_state(task_dir: str) -> dict:
    path = osp.join(task_dir, STATE)
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def write_state(task_dir: str, **state) -> dict:
    os.makedirs(task_dir, exist_ok=True)
    tmp = osp.join(task_dir, STATE + '.tmp')
    with open(tmp, 'w') as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, osp.join(task_dir, STATE))
    return state


def run_command(cmd: List[str], env: Dict[str, str], log: str) -> int:
    """Run ``cmd`` with its output in ``log``; on Ctrl-C give the tool time
    to stop in order (it receives the terminal's SIGINT itself; it is sent
    one when it has not), then re-raise.

    Returns:
        int: the exit status.
    """
    with open(log, 'a') as out:
        out.write(f'$ {" ".join(cmd)}\n')
        out.flush()
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                **env
            })
        try:
            return proc.wait()
        except KeyboardInterrupt:
            _stop(proc)
            raise


def _stop(proc: subprocess.Popen,
          grace: float = 10.0,
          orderly: float = 120.0) -> None:
    try:
        proc.wait(timeout=grace)
        return
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=orderly)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def read_task_metrics(task: Task, task_dir: str, cfg) -> Dict[str, float]:
    """The task's figures from its own output."""
    if task.kind == 'svm':
        return read_json_metrics(
            osp.join(task_dir, 'result.json'), task.metrics)
    return read_scalars_metrics(task_dir, task.metrics, last_step(cfg))


def metric_source(task: Task, task_dir: str) -> str:
    """The file the task's figures were read from."""
    if task.kind == 'svm':
        return osp.join(task_dir, 'result.json')
    return osp.join(newest_run(task_dir), 'vis_data', 'scalars.json')


def run_task(task: Task, task_dir: str, ckpt_digest: str, backbone: str, arch,
             root: str, launch: Launch, cfg_options: Optional[dict]) -> dict:
    """Run one task unless its result is already there.

    Returns:
        dict: the task's state (``status`` is ``'done'`` or ``'failed'``;
        ``metrics``, ``log``, ``reason``, ``reused``).
    """
    cfg_path = osp.join(task_dir, 'config', osp.basename(task.config))
    cfg = resolve_config(task, arch, backbone, root, cfg_options, cfg_path)
    key = fingerprint(ckpt_digest, cfg.pretty_text, root, list(task.args))
    old = read_state(task_dir)
    if old.get('fingerprint') == key and old.get('status') == 'done':
        return dict(old, reused=True)
    resume = old.get('fingerprint') == key  # interrupted or failed: continue
    if old and not resume:  # another checkpoint, config or data root
        _clear(task_dir, keep=osp.dirname(cfg_path))
    log = osp.join(task_dir, 'suite_task.log')
    cmd, env = build_command(task, cfg_path, backbone, root, task_dir, launch,
                             resume)
    base = dict(task=task.name, fingerprint=key, log=log, config=cfg_path)
    write_state(task_dir, status='running', started=time.time(), **base)
    try:
        code = run_command(cmd, env, log)
    except KeyboardInterrupt:
        write_state(task_dir, status='interrupted', **base)
        raise
    if code != 0:
        return write_state(
            task_dir, status='failed', reason=f'exit status {code}', **base)
    try:
        metrics = read_task_metrics(task, task_dir, cfg)
    except MetricError as exc:
        return write_state(task_dir, status='failed', reason=str(exc), **base)
    return write_state(
        task_dir,
        status='done',
        metrics=metrics,
        source=metric_source(task, task_dir),
        finished=time.time(),
        **base)


def _clear(task_dir: str, keep: str) -> None:
    for name in os.listdir(task_dir):
        path = osp.join(task_dir, name)
        if path == keep:
            continue
        if osp.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
