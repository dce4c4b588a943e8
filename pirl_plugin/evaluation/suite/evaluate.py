"""The suite from a checkpoint to its tables: check the data, convert the
checkpoint once, run the tasks, write the report."""
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

from pirl_plugin.utils.resnet_weights import (PREFIX, get_state_dict,
                                              load_checkpoint_file)
from .arch import resolve_arch
from .commands import TOOLS, Launch
from .report import write_report
from .runner import file_digest, run_task
from .spec import (Suite, Task, data_root, load_suite, missing_data,
                   select_tasks)


def to_backbone(checkpoint: str, digest: str, work_dir: str) -> str:
    """The backbone checkpoint the tasks load, converted once with
    ``tools/model_converters/pirl_to_backbone.py`` (a checkpoint without
    ``backbone.*`` keys is one already and is used as it is).

    Returns:
        str: the backbone checkpoint.
    """
    state_dict = get_state_dict(load_checkpoint_file(checkpoint), checkpoint)
    if not any(k.startswith(PREFIX) for k in state_dict):
        return osp.abspath(checkpoint)
    dst = osp.join(osp.abspath(work_dir), 'backbone.pth')
    stamp = dst + '.source.json'
    if osp.isfile(dst) and osp.isfile(stamp):
        with open(stamp) as f:
            if json.load(f).get('sha256') == digest:
                return dst
    cmd = [
        sys.executable,
        osp.join(TOOLS, 'model_converters', 'pirl_to_backbone.py'), checkpoint,
        dst
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1])
    with open(stamp, 'w') as f:
        json.dump(dict(source=osp.abspath(checkpoint), sha256=digest), f)
    return dst


def data_roots(suite: Suite, overrides: Optional[Dict[str, str]]) -> dict:
    """The suite's default data roots updated with ``--data-root``."""
    roots = dict(suite.data_roots)
    roots.update(overrides or {})
    return roots


def split_by_data(tasks: List[Task],
                  roots: Dict[str, str],
                  log=print) -> Tuple[List[Task], Dict[str, dict]]:
    """The tasks whose data is present, and a ``skipped`` result with its
    reason for each of the others."""
    runnable, skipped = [], {}
    for task in tasks:
        reason = missing_data(task, roots)
        if reason:
            log(f'[{task.name}] skipped: {reason}')
            skipped[task.name] = dict(status='skipped', reason=reason)
        else:
            runnable.append(task)
    return runnable, skipped


def run_suite(checkpoint: str,
              work_dir: str,
              suite_file: str,
              tasks: Optional[List[str]] = None,
              config: Optional[str] = None,
              roots: Optional[Dict[str, str]] = None,
              launch: Optional[Launch] = None,
              cfg_options: Optional[dict] = None,
              log=print) -> int:
    """Evaluate ``checkpoint`` with the suite's tasks and write
    ``eval_suite.{json,md,png}`` into ``work_dir``.

    Returns:
        int: 0 when every selected task with data finished, 1 when one
        failed, 130 after Ctrl-C (the same call continues).
    """
    suite = load_suite(suite_file)
    selected = select_tasks(suite, tasks)
    roots = data_roots(suite, roots)
    arch = resolve_arch(checkpoint, config)
    log(f'backbone: {arch}')
    runnable, results = split_by_data(selected, roots, log)
    os.makedirs(work_dir, exist_ok=True)
    status = 0
    try:
        if runnable:
            digest = file_digest(checkpoint)
            try:
                backbone = to_backbone(checkpoint, digest, work_dir)
            except RuntimeError as exc:
                log(f'conversion failed: {exc}')
                results.update({
                    t.name: dict(status='failed', reason=f'conversion: {exc}')
                    for t in runnable
                })
                runnable = []
        for task in runnable:
            log(f'[{task.name}] running ...')
            results[task.name] = _run_one(task, work_dir, digest, backbone,
                                          arch, roots, launch or Launch(),
                                          cfg_options)
            _log_result(log, task.name, results[task.name])
    except KeyboardInterrupt:
        log('interrupted: run the same command again to continue')
        status = 130
    paths = write_report(suite, selected, results, arch, checkpoint, work_dir)
    log('wrote ' + ', '.join(paths))
    failed = any(r['status'] == 'failed' for r in results.values())
    return status or int(failed)


def _run_one(task, work_dir, digest, backbone, arch, roots, launch,
             cfg_options) -> dict:
    task_dir = osp.join(osp.abspath(work_dir), task.name)
    try:
        return run_task(task, task_dir, digest, backbone, arch,
                        data_root(task, roots), launch, cfg_options)
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        return dict(status='failed', reason=f'{type(exc).__name__}: {exc}')


def _log_result(log, name: str, result: dict) -> None:
    if result['status'] == 'done':
        figures = ', '.join(f'{k} {v:.1f}'
                            for k, v in result['metrics'].items())
        again = ' (finished before, not re-run)' if result.get(
            'reused') else ''
        log(f'[{name}] done{again}: {figures}')
    else:
        log(f'[{name}] FAILED: {result.get("reason")}; '
            f'log: {result.get("log", "-")}')
