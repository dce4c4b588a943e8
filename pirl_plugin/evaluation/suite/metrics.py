"""Each task's figures, read from its own structured output: MMEngine's
``vis_data/scalars.json`` (the row of the last epoch or iteration) or the
JSON of ``tools/voc07_svm.py``."""
import json
import os.path as osp
from typing import Dict, List, Optional

from pirl_plugin.utils.run_logs import read_scalars
from .spec import Metric


class MetricError(RuntimeError):
    """A task's output lacks a figure; the message names file and key."""


def last_step(cfg) -> Optional[int]:
    """The step MMEngine's ``LoggerHook`` logs the final evaluation at:
    ``max_epochs`` of an epoch-based loop, ``max_iters`` of an
    iteration-based one whose logger has ``log_metric_by_epoch=False``;
    None where the step tells nothing (an iteration-based loop logs its
    evaluations at epoch 0 by default).
    """
    train_cfg = cfg.get('train_cfg') or {}
    logger = (cfg.get('default_hooks') or {}).get('logger') or {}
    by_epoch = logger.get('log_metric_by_epoch', True)
    if 'max_epochs' in train_cfg:
        return int(train_cfg['max_epochs']) if by_epoch else None
    if 'max_iters' in train_cfg and not by_epoch:
        return int(train_cfg['max_iters'])
    return None


def pick(values: Dict[str, float], metrics: List[Metric],
         source: str) -> Dict[str, float]:
    """The table rows (in percent) from a flat ``{key: value}`` dict.

    Raises:
        MetricError: a key is missing; the message lists those present.
    """
    out = {}
    for m in metrics:
        if m.key not in values:
            raise MetricError(
                f'{source}: no {m.key!r} (row {m.name!r}); it has '
                f'{sorted(values)}: fix the key in the suite file')
        out[m.name] = float(values[m.key]) * m.scale
    return out


def read_scalars_metrics(work_dir: str, metrics: List[Metric],
                         step: Optional[int]) -> Dict[str, float]:
    """The rows' figures from the newest run's ``scalars.json``, from the
    last evaluation, which must be at ``step``.

    Args:
        work_dir (str): the task's work directory.
        metrics (list[Metric]): the rows to read.
        step (int, optional): the last epoch/iteration; None accepts the
            last evaluation whatever its step.

    Returns:
        dict[str, float]: row name -> figure in percent.
    """
    path, rows = read_scalars(work_dir)
    if path is None:
        raise MetricError(f'{work_dir}: no run with vis_data/scalars.json')
    keys = {m.key for m in metrics}
    evals = [r for r in rows if keys & set(r)]
    if not evals:
        raise MetricError(f'{path}: no evaluation row with any of '
                          f'{sorted(keys)}')
    last = evals[-1]  # rows are appended as the run logs them
    if step is not None and last.get('step') != step:
        raise MetricError(f'{path}: the last evaluation is at step '
                          f'{last.get("step")}, not at the last one ({step}):'
                          ' the run did not finish')
    return pick(last, metrics, f'{path} (step {last.get("step")})')


def read_json_metrics(path: str, metrics: List[Metric]) -> Dict[str, float]:
    """The rows' figures from a tool's JSON result (top-level keys)."""
    if not osp.isfile(path):
        raise MetricError(f'{path}: the tool wrote no result')
    with open(path) as f:
        values = json.load(f)
    return pick(values, metrics, path)
