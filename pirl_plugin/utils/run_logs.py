"""Reading what a training run logged: MMEngine's ``vis_data/scalars.json``
and the kNN monitor's ``knn_monitor.json`` of the newest run in a work
directory (each run of a training tool logs into
``<work_dir>/<timestamp>/``). Used by ``tools/demo.py`` and
``tools/analysis/compare_mocov2.py``."""
import json
import os
import os.path as osp
from typing import List, Optional, Tuple


def newest_run(work_dir: str) -> Optional[str]:
    """The newest ``<work_dir>/<timestamp>`` folder holding a ``vis_data``
    folder, or None."""
    if not osp.isdir(work_dir):
        return None
    runs = [
        osp.join(work_dir, d) for d in os.listdir(work_dir)
        if osp.isdir(osp.join(work_dir, d, 'vis_data'))
    ]
    return max(runs, key=osp.getmtime) if runs else None


def _json_lines(path: str) -> List[dict]:
    if not osp.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_run_logs(work_dir: str) -> Tuple[List[dict], List[dict]]:
    """The training rows (those with a ``loss``) of the newest run's
    ``scalars.json`` and its kNN monitor's rows.

    Args:
        work_dir (str): the training work directory.

    Returns:
        tuple[list[dict], list[dict]]: both empty when no run is found.
    """
    run = newest_run(work_dir)
    if run is None:
        return [], []
    rows = [
        r for r in _json_lines(osp.join(run, 'vis_data', 'scalars.json'))
        if 'loss' in r
    ]
    return rows, _json_lines(osp.join(run, 'knn_monitor.json'))


def read_scalars(work_dir: str) -> Tuple[Optional[str], List[dict]]:
    """Every row of the newest run's ``vis_data/scalars.json`` (training
    and evaluation alike).

    Args:
        work_dir (str): the training work directory.

    Returns:
        tuple[str | None, list[dict]]: the file read (None when no run is
        found) and its rows.
    """
    run = newest_run(work_dir)
    if run is None:
        return None, []
    path = osp.join(run, 'vis_data', 'scalars.json')
    return path, _json_lines(path)
