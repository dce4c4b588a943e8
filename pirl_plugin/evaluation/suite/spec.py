"""The suite file of ``tools/eval_suite.py``: which tasks exist, the data
each needs, and where each table row's figure comes from."""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config

KINDS = ('train', 'det', 'svm')
REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


class SuiteError(ValueError):
    """A bad suite file, task list or data root; the message says which
    and what to do."""


@dataclass
class Metric:
    """One table row: ``key`` in the task's output, times ``scale``.

    Args:
        name (str): the row's label.
        key (str): the scalar's name, e.g. ``'pascal_voc/AP50'``.
        scale (float): factor to percent (1 for values already in %).
        pirl (float, optional): the paper's PIRL figure.
        jigsaw (float, optional): the paper's Jigsaw figure.
    """
    name: str
    key: str
    scale: float = 1.0
    pirl: Optional[float] = None
    jigsaw: Optional[float] = None


@dataclass
class Task:
    """One evaluation run.

    Args:
        name (str): the task's name in the suite file and ``--tasks``.
        kind (str): ``'train'`` (``tools/train.py``), ``'det'``
            (``tools/det_train.py``) or ``'svm'`` (``tools/voc07_svm.py``).
        table (str): the table its rows go to.
        config (str): the config the task starts from.
        data (str): the key of its data root in ``data_roots``.
        metrics (list[Metric]): its rows.
        requires (list[str]): paths under the data root that must exist.
        subdir (str): the folder under the data root the tool reads.
        tool (str, optional): the script to run instead of the default.
        args (list[str]): extra arguments of the tool.
        cfg_options (dict): settings merged into the task's config.
    """
    name: str
    kind: str
    table: str
    config: str
    data: str
    metrics: List[Metric]
    requires: List[str] = field(default_factory=list)
    subdir: str = ''
    tool: Optional[str] = None
    args: List[str] = field(default_factory=list)
    cfg_options: dict = field(default_factory=dict)


@dataclass
class Suite:
    """A parsed suite file.

    Args:
        tasks (dict[str, Task]): the tasks in file order.
        tables (dict[str, str]): table name -> title, in output order.
        data_roots (dict[str, str]): data key -> default folder.
    """
    tasks: Dict[str, Task]
    tables: Dict[str, str]
    data_roots: Dict[str, str]


def _task(name: str, raw: dict, path: str, tables: Dict[str, str]) -> Task:
    raw = dict(raw)
    try:
        metrics = [
            Metric(name=row, **dict(m))
            for row, m in raw.pop('metrics').items()
        ]
        task = Task(name=name, metrics=metrics, **raw)
    except (KeyError, TypeError) as exc:
        raise SuiteError(
            f'{path}: task {name!r} is not valid ({exc}): it '
            'needs kind, table, config, data and metrics') from exc
    if task.kind not in KINDS:
        raise SuiteError(f'{path}: task {name!r} has kind {task.kind!r}; '
                         f'use one of {KINDS}')
    if task.table not in tables:
        raise SuiteError(f'{path}: task {name!r} goes to table '
                         f'{task.table!r}, which `tables` does not list '
                         f'({list(tables)})')
    task.cfg_options = dict(task.cfg_options)
    # paths relative to the working directory, else to the repository
    for attr in ('config', 'tool'):
        rel = getattr(task, attr)
        if rel and not osp.exists(rel) and osp.exists(osp.join(REPO, rel)):
            rel = osp.join(REPO, rel)
        if rel:
            setattr(task, attr, osp.abspath(rel))
    return task


def load_suite(path: str) -> Suite:
    """Read a suite file (a Python config with ``tasks``, ``tables`` and
    ``data_roots``; see ``configs/benchmarks/eval_suite.py``).

    Args:
        path (str): the suite file.

    Returns:
        Suite: the parsed suite.
    """
    if not osp.isfile(path):
        raise SuiteError(f'suite file {path!r} not found: pass --suite '
                         'configs/benchmarks/eval_suite.py or a copy of it')
    cfg = Config.fromfile(path)
    for key in ('tasks', 'tables', 'data_roots'):
        if key not in cfg:
            raise SuiteError(f'{path}: no `{key}` in the suite file')
    tables = dict(cfg.tables)
    tasks = {
        name: _task(name, raw, path, tables)
        for name, raw in cfg.tasks.items()
    }
    return Suite(tasks=tasks, tables=tables, data_roots=dict(cfg.data_roots))


def select_tasks(suite: Suite, names: Optional[Sequence[str]]) -> List[Task]:
    """The tasks named in ``--tasks`` (all of them when None), in the
    order given."""
    if not names:
        return list(suite.tasks.values())
    unknown = [n for n in names if n not in suite.tasks]
    if unknown:
        raise SuiteError(f'--tasks: unknown task(s) {unknown}; the suite has '
                         f'{list(suite.tasks)}')
    return [suite.tasks[n] for n in names]


def data_root(task: Task, roots: Dict[str, str]) -> str:
    """The folder the task's tool reads (its data root and ``subdir``)."""
    if task.data not in roots:
        raise SuiteError(f'task {task.name!r} needs data root '
                         f'{task.data!r}; pass --data-root '
                         f'{task.data}=PATH')
    return osp.join(roots[task.data], task.subdir) if task.subdir \
        else roots[task.data]


def missing_data(task: Task, roots: Dict[str, str]) -> Optional[str]:
    """A one-line reason to skip the task when its data is absent, else
    None."""
    root = roots[task.data]
    if not osp.isdir(root):
        return (f'no data: {task.data} root {root!r} does not exist '
                f'(--data-root {task.data}=PATH)')
    for rel in task.requires:
        if not osp.exists(osp.join(root, rel)):
            return f'no data: {osp.join(root, rel)!r} is missing'
    return None
